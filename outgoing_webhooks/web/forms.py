from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from outgoing_webhooks.models import EventType, WebhookEndpoint


def _max_length(field: str) -> int:
    return WebhookEndpoint._meta.get_field(field).max_length


class EndpointForm(forms.Form):
    url = forms.URLField(
        label=_("Address (URL)"),
        max_length=_max_length("url"),
        assume_scheme="https",
        help_text=_("Where FLAME POSTs the events, e.g. https://crm.example.com/flame."),
    )
    description = forms.CharField(
        label=_("Description"), max_length=_max_length("description"), required=False
    )
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )


class EndpointEditForm(EndpointForm):
    is_active = forms.BooleanField(label=_("Send events to this address"), required=False)
