"""Forms of the workspace settings pages.

They only shape input for the page (field types, lengths and choices come from the models); the
rules that matter — password strength, unique e-mail, the last admin, valid time zones — are the
services', whose errors the views put back on these forms.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.api.serializers import MemberCreateSerializer
from accounts.audit import ACTIONS
from accounts.models import ApiKey, AuditEntry, DateOverride, HolidayFeed, User, Workspace
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


# What the page offers as an expiry; the API takes any future moment.
EXPIRY_CHOICES = [
    ("", _("Never")),
    ("30", _("In 30 days")),
    ("90", _("In 90 days")),
    ("365", _("In a year")),
]


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=_max_length(ApiKey, "name"),
        help_text=_("Which system uses it, e.g. “CRM sync”."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("What it may do"),
        choices=ApiKey.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiKey.Scope.READ],
    )
    expires_in_days = forms.TypedChoiceField(
        label=_("Expires"),
        choices=EXPIRY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["expires_in_days"].conditional = True  # the select always sends a value

    def service_arguments(self, now) -> dict:
        days = self.cleaned_data["expires_in_days"]
        return {
            "name": self.cleaned_data["name"],
            "scopes": self.cleaned_data["scopes"],
            "expires_at": now + timedelta(days=days) if days else None,
        }


class AuditFilterForm(forms.Form):
    """The audit page's filters: days are whole local days in the workspace's time zone."""

    action = forms.ChoiceField(label=_("Action"), required=False)
    actor_type = forms.ChoiceField(
        label=_("Who"),
        required=False,
        choices=[("", _("Anyone")), *AuditEntry.ActorType.choices],
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        actions = sorted(ACTIONS.items(), key=lambda item: str(item[1]))
        self.fields["action"].choices = [("", _("Every action")), *actions]
        for name in self.fields:
            self.fields[name].conditional = True  # filters, not missing answers

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("Choose a day on or after the first one."))
        for name in ("since", "until"):
            day = cleaned.get(name)
            if day is not None and not (MIN_DAY <= day <= MAX_DAY):
                self.add_error(name, _("Choose a day between 2000 and 2100."))
        return cleaned

    def selector_arguments(self, zone: zoneinfo.ZoneInfo) -> dict[str, Any]:
        data = self.cleaned_data
        since, until = data.get("since"), data.get("until")
        return {
            "actions": [data["action"]] if data.get("action") else None,
            "actor_type": data.get("actor_type") or None,
            "since": _local_midnight(since, zone) if since else None,
            "until": _local_midnight(until + timedelta(days=1), zone) if until else None,
        }


MIN_DAY, MAX_DAY = date(2000, 1, 1), date(2100, 12, 31)


def _local_midnight(day: date, zone: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


# --- holidays and special hours (accounts.calendar) -----------------------------------------------

CLOSED, HOURS = "closed", "hours"


class DateOverrideForm(forms.Form):
    """A date closed all day or with its own hours. With "closed" chosen, the hour fields are
    ignored (a person may have typed them before changing their mind)."""

    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(
        label=_("That day"),
        choices=((CLOSED, _("Closed all day")), (HOURS, _("Open only during these hours"))),
        initial=CLOSED,
    )
    opens = forms.TimeField(
        label=_("Opens"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    closes = forms.TimeField(
        label=_("Closes"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Only for special hours; they end by midnight."),
    )
    name = forms.CharField(
        label=_("Name"),
        required=False,
        max_length=_max_length(DateOverride, "name"),
        help_text=_("For example: Christmas, Inventory day."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["opens"].conditional = True  # type: ignore[attr-defined]
        self.fields["closes"].conditional = True  # type: ignore[attr-defined]

    @classmethod
    def initial_for(cls, override: DateOverride) -> dict[str, Any]:
        return {
            "day": override.date,
            "kind": CLOSED if override.closed else HOURS,
            "opens": override.opens,
            "closes": override.closes,
            "name": override.name,
        }

    def clean(self) -> dict[str, Any]:
        """What the services take: ``closed`` instead of the choice, no hours when closed."""
        data = super().clean() or {}
        closed = data.pop("kind", CLOSED) == CLOSED
        if closed:
            data["opens"] = data["closes"] = None
        else:
            for name in ("opens", "closes"):
                if data.get(name) is None and name not in self.errors:
                    self.add_error(name, _("Give both the opening and closing time."))
        return {**data, "closed": closed}


class HolidayFeedForm(forms.Form):
    prefix = "feed"  # beside the date form on one page: its fields need ids of their own

    name = forms.CharField(
        label=_("Name"),
        max_length=_max_length(HolidayFeed, "name"),
        help_text=_("For example: Public holidays in Mexico."),
    )
    url = forms.CharField(
        label=_("Calendar address (.ics)"),
        max_length=_max_length(HolidayFeed, "url"),
        help_text=_(
            "An iCal address (https:// or webcal://). Its whole-day events close the workspace "
            "on those dates; it is fetched again every day."
        ),
    )


class HolidayFileForm(forms.Form):
    prefix = "upload"

    file = forms.FileField(
        label=_("Calendar file (.ics)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".ics,text/calendar"}),
        help_text=_(
            "Imported once: its whole-day events of the next 18 months become closed dates you "
            "can edit. Dates that already have their own entry are kept."
        ),
    )
