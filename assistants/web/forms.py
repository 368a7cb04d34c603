"""Forms of the assistant settings pages.

They parse and render; the rules stay where the API keeps them. Each form's ``clean()`` runs
the API's input serializer on the parsed values (so a page and the API refuse the same things
with the same messages), and the view maps the service's ``InvalidInput`` details back onto the
form with :func:`flame.forms.add_service_errors`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from assistants import services
from assistants.api import serializers as api_serializers
from assistants.api.serializers import AssistantSerializer
from assistants.models import Assistant, Schedule
from flame.exceptions import InvalidInput
from flame.forms import apply_serializer

# Friendlier words for the service's rule messages, per field (the rule itself stays there).
SERVICE_MESSAGES = {
    "auto_response": _("A fixed-reply assistant needs a reply text."),
    "ai_prompt": _("An AI assistant needs instructions (the system prompt)."),
    "status": _("Training is started with the Train button on the Knowledge tab."),
}


class AssistantForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For your team; customers never see it."),
    )
    type = forms.ChoiceField(
        label=_("Type"),
        choices=Assistant.Type.choices,
        widget=forms.RadioSelect,
        initial=Assistant.Type.AUTO,
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            (Assistant.Status.ACTIVE, Assistant.Status.ACTIVE.label),
            (Assistant.Status.INACTIVE, Assistant.Status.INACTIVE.label),
        ],
        initial=Assistant.Status.ACTIVE,
    )
    auto_response = forms.CharField(
        label=_("Fixed reply"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "What a fixed-reply assistant sends. AI assistants fall back to it when the model "
            "cannot answer."
        ),
    )
    ai_prompt = forms.CharField(
        label=_("Instructions for the AI"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("The system prompt: who the assistant is, its tone, what it must not do."),
    )
    model = forms.CharField(
        label=_("Model"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"list": "model-names", "autocomplete": "off"}),
        help_text=_("Leave empty to use the platform's default model."),
    )
    temperature = forms.FloatField(
        label=_("Temperature"),
        initial=0.7,
        min_value=0.0,
        max_value=2.0,
        widget=forms.NumberInput(attrs={"step": "0.1"}),
        help_text=_("0 = precise and repeatable, 2 = most creative."),
    )
    max_tokens = forms.IntegerField(
        label=_("Maximum answer length (tokens)"), initial=500, min_value=1, max_value=4096
    )
    schedule_mode = forms.ChoiceField(
        label=_("When it answers"),
        choices=Assistant.ScheduleMode.choices,
        initial=Assistant.ScheduleMode.ALWAYS,
        widget=forms.RadioSelect,
    )
    handoff_quiet_minutes = forms.IntegerField(
        label=_("Quiet after an agent replies (minutes)"),
        initial=30,
        min_value=0,
        help_text=_("The assistant stays silent in a conversation this long after a human reply."),
    )

    def __init__(self, *args, assistant: Assistant | None = None, **kwargs) -> None:
        if assistant is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(assistant, name) for name in self.declared_fields}
            if assistant.status == Assistant.Status.TRAINING:
                # Training ends by itself; what the admin picks here is the status after it.
                kwargs["initial"]["status"] = Assistant.Status.ACTIVE
        super().__init__(*args, **kwargs)
        # Required or not depending on the type (the service decides): no "optional" mark.
        for name in ("auto_response", "ai_prompt"):
            self.fields[name].conditional = True

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors:
            cleaned = apply_serializer(self, AssistantSerializer(data=cleaned)) or cleaned
        self._check_service_rules(cleaned)
        return cleaned

    def _check_service_rules(self, values: dict[str, Any]) -> None:
        """The service's own rules (a fixed reply needs its text...), reported together with
        the field errors instead of one round later. The service checks them again."""
        try:
            services.assistant_validate(values)
        except InvalidInput as exc:
            for field, problems in exc.details.items():
                if field in self.fields and field not in self.errors:
                    self.add_error(field, SERVICE_MESSAGES.get(field) or problems)


class ScheduleForm(forms.Form):
    day_of_week = forms.TypedChoiceField(
        label=_("Day"), choices=Schedule.Day.choices, coerce=int, initial=Schedule.Day.MONDAY
    )
    start_time = forms.TimeField(
        label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    end_time = forms.TimeField(
        label=_("To"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("At or before the start time: the interval runs past midnight."),
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)

    def __init__(self, *args, schedule: Schedule | None = None, **kwargs) -> None:
        if schedule is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(schedule, name) for name in self.declared_fields}
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        serializer = api_serializers.ScheduleWriteSerializer(data=cleaned)
        return apply_serializer(self, serializer) or cleaned


class KnowledgeForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    content = forms.CharField(
        label=_("Content"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Questions and answers, policies, prices, opening hours: plain text."),
    )

    def __init__(self, *args, document=None, **kwargs) -> None:
        if document is not None and "initial" not in kwargs:
            kwargs["initial"] = {"title": document.title, "content": document.content}
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        serializer = api_serializers.KnowledgeWriteSerializer(data=cleaned)
        return apply_serializer(self, serializer) or cleaned
