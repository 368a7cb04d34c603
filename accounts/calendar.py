"""The workspace's business calendar: which local dates do not follow the weekly schedules.

A ``DateOverride`` governs one whole local date in the workspace's timezone, from 00:00 to the
next 00:00 there: closed all day, or open only from ``opens`` to ``closes`` (end exclusive,
never past midnight). Dates are decided one by one: an interval of the day before that runs
past midnight stops at the start of an override date, and an override date's hours end at its
own midnight; the date after follows its weekly schedule again (docs/schedules.md).

The assistants' schedules (``assistants.schedule``) and auto-assignment
(``workbench.services.assignment``) ask here; this module only reads.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from accounts.models import DateOverride, Workspace


def workspace_zone(name: str) -> tzinfo:
    """The workspace's timezone (UTC for a name the system does not know)."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def local_moment(instant: datetime, zone: tzinfo) -> tuple[date, time]:
    """The local date and wall-clock time of ``instant`` in ``zone``."""
    local = instant.astimezone(zone)
    return local.date(), local.time().replace(tzinfo=None)


def today(workspace: Workspace, instant: datetime) -> date:
    return instant.astimezone(workspace_zone(workspace.timezone)).date()


def override_on(*, workspace_id: Any, day: date) -> DateOverride | None:
    """The override governing ``day`` (one query)."""
    return DateOverride.objects.filter(workspace_id=workspace_id, date=day).first()


def open_under(override: DateOverride, clock: time) -> bool:
    """Whether the override's date is open at wall-clock ``clock`` (closed: never)."""
    if override.closed or override.opens is None or override.closes is None:
        return False
    return override.opens <= clock < override.closes


def override_at(*, workspace: Workspace, instant: datetime) -> DateOverride | None:
    """The override of the local date ``instant`` falls on, if any (one query)."""
    return override_on(workspace_id=workspace.pk, day=today(workspace, instant))


def open_for_assignment(*, workspace_id: Any, instant: datetime) -> bool:
    """Whether conversations may be assigned automatically at ``instant``: not on a closed
    date, nor outside a date's own hours (a date without an override is open).

    One query: every local date is within a day of the UTC date, so the overrides of those
    three dates, with the workspace's timezone, tell which one (if any) governs now.
    """
    utc_day = instant.astimezone(zoneinfo.ZoneInfo("UTC")).date()
    nearby = DateOverride.objects.filter(
        workspace_id=workspace_id,
        date__range=(utc_day - timedelta(days=1), utc_day + timedelta(days=1)),
    ).select_related("workspace")
    for override in nearby:
        day, clock = local_moment(instant, workspace_zone(override.workspace.timezone))
        if override.date == day:
            return open_under(override, clock)
    return True
