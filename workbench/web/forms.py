"""Forms of the workbench's pages: they shape input; the API's serializers check it and the
services apply the rules (their refusals come back on these forms)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from workbench.models import NotificationPreference
from workbench.services.assignment_settings import MAX_ALERT_MINUTES, MAX_CAPACITY
from workbench.services.saved_replies import MAX_CONTENT


class PreferencesForm(forms.Form):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in NotificationPreference.FIELDS:
            label = NotificationPreference._meta.get_field(name).verbose_name
            self.fields[name] = forms.BooleanField(label=label, required=False)


class SavedReplyForm(forms.Form):
    short_code = forms.CharField(
        label=_("Short code"),
        max_length=40,
        help_text=_("Type / and this code in the reply box to insert the text."),
    )
    content = forms.CharField(
        label=_("Text"),
        max_length=MAX_CONTENT,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Variables: {{contact.name}}, {{contact.first_name}}, {{contact.email}}, "
            "{{contact.phone}}, {{agent.name}}, {{agent.first_name}}."
        ),
    )
    personal = forms.TypedChoiceField(
        label=_("Who uses it"),
        choices=((True, _("Only me")), (False, _("The whole workspace"))),
        coerce=lambda value: value in (True, "True", "true"),
        initial=True,
    )

    def __init__(self, *args, can_share: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not can_share:
            del self.fields["personal"]  # agents keep their own; the workspace's are admins'


class CapacityForm(forms.Form):
    capacity = forms.IntegerField(label=_("Capacity"), min_value=0, max_value=MAX_CAPACITY)


class AutoAssignForm(forms.Form):
    auto_assign = forms.BooleanField(required=False)


class WaitingAlertForm(forms.Form):
    waiting_alert_minutes = forms.IntegerField(
        label=_("Alert when a customer waits longer than (minutes)"),
        min_value=1,
        max_value=MAX_ALERT_MINUTES,
        required=False,
        help_text=_("Empty: no alert. The assignee is told; unassigned, the admins."),
    )
