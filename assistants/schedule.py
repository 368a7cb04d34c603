"""The schedule engine: is an assistant on duty at a given instant?

Schedules are weekly wall-clock intervals in the workspace timezone: day 0 = Sunday (as in the
seed), ``end <= start`` runs past midnight into the next day (``start == end``: 24 hours), the
end is exclusive. The instant is converted to local wall-clock time first, so DST needs no
special case: on the spring-forward night the skipped hour simply never occurs (an interval
ending at 02:30 ends at the jump), on the fall-back night the repeated hour is inside an
interval both times it occurs.

A date of the workspace's business calendar (``accounts.calendar``: a holiday, special hours)
replaces the weekly intervals for that whole local date: closed, the assistant is outside its
schedule all day (an "inside" assistant is quiet, an "outside" one answers); with its own
hours, inside exactly from ``opens`` to ``closes``. "Always" ignores both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, tzinfo

from accounts.calendar import local_moment, open_under, override_on
from accounts.calendar import workspace_zone as workspace_zone  # its importers read it here
from accounts.models import DateOverride
from assistants.models import Assistant


@dataclass(frozen=True)
class Interval:
    day_of_week: int  # 0 = Sunday … 6 = Saturday
    start: time
    end: time

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start


def sunday_based_weekday(moment: datetime) -> int:
    """Python counts Monday = 0; schedules count Sunday = 0."""
    return (moment.weekday() + 1) % 7


def _covers(interval: Interval, weekday: int, clock: time) -> bool:
    yesterday = (weekday - 1) % 7
    if interval.crosses_midnight:
        started_today = interval.day_of_week == weekday and clock >= interval.start
        spilled_from_yesterday = interval.day_of_week == yesterday and clock < interval.end
        return started_today or spilled_from_yesterday
    return interval.day_of_week == weekday and interval.start <= clock < interval.end


def inside_intervals(intervals: Iterable[Interval], instant: datetime, zone: tzinfo) -> bool:
    local = instant.astimezone(zone)
    weekday, clock = sunday_based_weekday(local), local.time().replace(tzinfo=None)
    return any(_covers(interval, weekday, clock) for interval in intervals)


def on_duty(
    *,
    schedule_mode: str,
    intervals: Iterable[Interval],
    instant: datetime,
    zone: tzinfo,
    override: DateOverride | None = None,
) -> bool:
    """``override``: the business calendar's entry for the local date of ``instant``, which
    then decides instead of ``intervals``."""
    if schedule_mode == Assistant.ScheduleMode.ALWAYS:
        return True
    if override is not None:
        inside = open_under(override, local_moment(instant, zone)[1])
    else:
        inside = inside_intervals(intervals, instant, zone)
    return inside if schedule_mode == Assistant.ScheduleMode.INSIDE else not inside


def assistant_on_duty(assistant: Assistant, instant: datetime) -> bool:
    """Whether ``assistant`` answers at ``instant``: one query for the date's override and,
    on a date without one, one for its enabled schedules (none when they are prefetched)."""
    if assistant.schedule_mode == Assistant.ScheduleMode.ALWAYS:
        return True
    zone = workspace_zone(assistant.workspace.timezone)
    override = override_on(workspace_id=assistant.workspace_id, day=local_moment(instant, zone)[0])
    intervals = (
        []
        if override is not None
        else [
            Interval(day_of_week=s.day_of_week, start=s.start_time, end=s.end_time)
            for s in assistant.schedules.all()
            if s.enabled
        ]
    )
    return on_duty(
        schedule_mode=assistant.schedule_mode,
        intervals=intervals,
        instant=instant,
        zone=zone,
        override=override,
    )
