"""Forms of the workspace settings pages.

They only shape input for the page (field types, lengths and choices come from the models); the
rules that matter — password strength, unique e-mail, the last admin, valid time zones — are the
services', whose errors the views put back on these forms.
"""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.api.serializers import MemberCreateSerializer
from accounts.models import User, Workspace
from accounts.services import workspace_switches
from flame.forms import apply_serializer


def _max_length(model, field: str) -> int:
    return model._meta.get_field(field).max_length


@cache
def timezone_choices() -> list[tuple[str, str]]:
    """IANA zones people pick from (no legacy aliases such as "US/Eastern" or "Etc/GMT+5")."""
    zones = sorted(
        zone
        for zone in zoneinfo.available_timezones()
        if "/" in zone and not zone.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/"))
    )
    return [(zone, zone.replace("_", " ")) for zone in [*zones, "UTC"]]


class InviteForm(forms.Form):
    """Parsed here, checked by the API's serializer (the role's default, the e-mail's shape);
    ``services.user_invite`` normalises the address and applies the rules."""

    email = forms.EmailField(label=_("E-mail"), max_length=_max_length(User, "email"))
    name = forms.CharField(label=_("Name"), max_length=_max_length(User, "name"))
    role = forms.ChoiceField(
        label=_("Role"), choices=User.Role.choices, initial=User.Role.AGENT, required=False
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The select always sends a role.
        self.fields["role"].conditional = True

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        # Left out when blank, as an API client would: the serializer fills in its defaults.
        given = {name: value for name, value in cleaned.items() if value != ""}
        return apply_serializer(self, MemberCreateSerializer(data=given)) or cleaned


# The words of each workspace switch (``services.workspace_switches()`` lists the switches).
SWITCH_WORDS = {
    "csat_survey": {"label": _("Send a satisfaction survey when a conversation is resolved")},
    "agents_see_unassigned": {
        "label": _("Agents see the unassigned queue"),
        "help_text": _("Otherwise agents only see conversations assigned to them."),
    },
    "ai_analysis": {
        "label": _("AI analysis of conversations"),
        "help_text": _("Keeps a summary, a priority and tags on each conversation."),
    },
}


def switch_words(key: str) -> dict:
    return SWITCH_WORDS.get(key) or {"label": key.replace("_", " ").capitalize()}


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=User.Role.choices)


class WorkspaceForm(forms.Form):
    name = forms.CharField(label=_("Workspace name"), max_length=_max_length(Workspace, "name"))
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        choices=timezone_choices,
        help_text=_("Schedules, reports and dates follow this zone."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=Workspace.Language.choices,
        help_text=_("Members who did not choose a language see the product in this one."),
    )

    def __init__(self, *args, current_timezone: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = timezone_choices()
        if current_timezone and current_timezone not in dict(choices):
            # A zone set elsewhere (an alias such as "US/Eastern") stays selectable.
            choices = [(current_timezone, current_timezone), *choices]
        self.fields["timezone"].choices = choices
        # One check box per workspace switch, named after its Workspace.settings key.
        for key in workspace_switches():
            self.fields[key] = forms.BooleanField(required=False, **switch_words(key))

    @staticmethod
    def initial_for(workspace: Workspace, switches: dict[str, bool]) -> dict:
        initial = {
            "name": workspace.name,
            "timezone": workspace.timezone,
            "language": workspace.language,
        }
        for key, default in switches.items():
            initial[key] = bool(workspace.setting(key, default))
        return initial

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "timezone": data["timezone"],
            "language": data["language"],
            "settings": {key: data[key] for key in workspace_switches()},
        }
