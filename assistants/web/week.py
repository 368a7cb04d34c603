"""The week table of the schedules page: one row per day, Monday first, with its intervals and
the bar segments that draw them on a 24-hour track.

An interval that runs past midnight is drawn twice: from its start to midnight on its own day,
and from midnight to its end on the next day (marked as a spill-over).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time

from assistants.models import Schedule

DISPLAY_ORDER = (1, 2, 3, 4, 5, 6, 0)  # Monday … Sunday; stored days count Sunday = 0
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Segment:
    schedule: Schedule
    start_minute: int
    end_minute: int
    spill: bool

    @property
    def left_percent(self) -> str:
        return f"{self.start_minute * 100 / MINUTES_PER_DAY:.3f}"

    @property
    def width_percent(self) -> str:
        return f"{(self.end_minute - self.start_minute) * 100 / MINUTES_PER_DAY:.3f}"


@dataclass
class DayRow:
    day: int
    label: str
    schedules: list[Schedule] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)


def _minute(value: time) -> int:
    return value.hour * 60 + value.minute


def _segments(schedule: Schedule) -> list[tuple[int, Segment]]:
    start, end = _minute(schedule.start_time), _minute(schedule.end_time)
    if not schedule.crosses_midnight:
        return [(schedule.day_of_week, Segment(schedule, start, end, spill=False))]
    today = (schedule.day_of_week, Segment(schedule, start, MINUTES_PER_DAY, spill=False))
    if end == 0:
        return [today]
    tomorrow = (schedule.day_of_week + 1) % 7
    return [today, (tomorrow, Segment(schedule, 0, end, spill=True))]


def week_rows(schedules: list[Schedule]) -> list[DayRow]:
    labels = dict(Schedule.Day.choices)
    rows = {day: DayRow(day=day, label=labels[day]) for day in DISPLAY_ORDER}
    for schedule in schedules:
        rows[schedule.day_of_week].schedules.append(schedule)
        for day, segment in _segments(schedule):
            rows[day].segments.append(segment)
    return [rows[day] for day in DISPLAY_ORDER]
