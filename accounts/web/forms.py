"""Forms of the workspace settings pages.

They only shape input for the page (field types, lengths and choices come from the models); the
rules that matter — password strength, unique e-mail, the last admin, valid time zones — are the
services', whose errors the views put back on these forms.
"""

from __future__ import annotations

import zoneinfo
from functools import cache

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User, Workspace
from analytics.csat import SURVEY_SETTING as CSAT_SURVEY
from assistants.analysis import WORKSPACE_SWITCH as AI_ANALYSIS
from conversations.selectors import AGENTS_SEE_UNASSIGNED
from flame.exceptions import ApplicationError


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


class ServiceErrorsMixin:
    """Put a service's ``details`` on the matching fields, everything else on the form."""

    def add_service_error(self, error: ApplicationError, message: str) -> None:
        """Show a refusal on the field it names; ``message`` is the page-language wording of a
        known refusal, preferred over the service's English details."""
        translated = message != error.message
        placed = False
        for field, problems in (error.details or {}).items():
            if field in self.fields:
                for problem in [message] if translated else problems:
                    self.add_error(field, str(problem))
                placed = True
        if not placed:
            self.add_error(None, message)


class InviteForm(ServiceErrorsMixin, forms.Form):
    email = forms.EmailField(label=_("E-mail"), max_length=_max_length(User, "email"))
    name = forms.CharField(label=_("Name"), max_length=_max_length(User, "name"))
    role = forms.ChoiceField(
        label=_("Role"), choices=User.Role.choices, initial=User.Role.AGENT, required=False
    )
    password = forms.CharField(
        label=_("Password (optional)"),
        required=False,
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to send an invitation e-mail instead."),
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean_role(self) -> str:
        return self.cleaned_data["role"] or User.Role.AGENT  # as /api/users


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=User.Role.choices)


class WorkspaceForm(ServiceErrorsMixin, forms.Form):
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
    # Boolean switches, named after their Workspace.settings keys (see SWITCH_FIELDS).
    csat_survey = forms.BooleanField(
        label=_("Send a satisfaction survey when a conversation is resolved"), required=False
    )
    agents_see_unassigned = forms.BooleanField(
        label=_("Agents see the unassigned queue"),
        required=False,
        help_text=_("Otherwise agents only see conversations assigned to them."),
    )
    ai_analysis = forms.BooleanField(
        label=_("AI analysis of conversations"),
        required=False,
        help_text=_("Keeps a summary, a priority and tags on each conversation."),
    )

    SWITCH_FIELDS = {
        "csat_survey": CSAT_SURVEY,
        "agents_see_unassigned": AGENTS_SEE_UNASSIGNED,
        "ai_analysis": AI_ANALYSIS,
    }

    def __init__(self, *args, current_timezone: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = timezone_choices()
        if current_timezone and current_timezone not in dict(choices):
            # A zone set elsewhere (an alias such as "US/Eastern") stays selectable.
            choices = [(current_timezone, current_timezone), *choices]
        self.fields["timezone"].choices = choices

    @classmethod
    def initial_for(cls, workspace: Workspace, switches: dict[str, bool]) -> dict:
        initial = {
            "name": workspace.name,
            "timezone": workspace.timezone,
            "language": workspace.language,
        }
        for field, key in cls.SWITCH_FIELDS.items():
            initial[field] = bool(workspace.setting(key, switches[key]))
        return initial

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "timezone": data["timezone"],
            "language": data["language"],
            "settings": {key: data[field] for field, key in self.SWITCH_FIELDS.items()},
        }
