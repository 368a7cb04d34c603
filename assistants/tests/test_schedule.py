"""The schedule engine: intervals, midnight, timezones, both DST transitions, modes."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from assistants.models import Assistant
from assistants.schedule import Interval, assistant_on_duty, inside_intervals, on_duty
from assistants.tests.factories import AssistantFactory, ScheduleFactory

MADRID = ZoneInfo("Europe/Madrid")
MEXICO = ZoneInfo("America/Mexico_City")
NEW_YORK = ZoneInfo("America/New_York")
SUN, MON, TUE, THU, FRI, SAT = 0, 1, 2, 4, 5, 6


def local(zone, *args) -> datetime:
    return datetime(*args, tzinfo=zone)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def inside(intervals, instant, zone=MEXICO) -> bool:
    return inside_intervals(intervals, instant, zone)


# 2025-06-02 is a Monday; 2025-06-06 a Friday.


@pytest.mark.parametrize(
    ("clock", "expected"),
    [((8, 59), False), ((9, 0), True), ((17, 59), True), ((18, 0), False)],
)
def test_interval_includes_start_and_excludes_end(clock, expected):
    office = [Interval(MON, time(9), time(18))]

    assert inside(office, local(MEXICO, 2025, 6, 2, *clock)) is expected


@pytest.mark.parametrize(("hour", "expected"), [(10, True), (14, False), (16, True), (20, False)])
def test_several_intervals_on_one_day(hour, expected):
    split_shift = [Interval(MON, time(9), time(13)), Interval(MON, time(15), time(19))]

    assert inside(split_shift, local(MEXICO, 2025, 6, 2, hour)) is expected


def test_interval_only_counts_on_its_day():
    office = [Interval(MON, time(9), time(18))]

    assert inside(office, local(MEXICO, 2025, 6, 3, 10)) is False  # Tuesday


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ((2025, 6, 6, 21, 59), False),  # Friday before it starts
        ((2025, 6, 6, 23, 30), True),  # Friday night
        ((2025, 6, 7, 0, 0), True),  # midnight, now Saturday
        ((2025, 6, 7, 1, 59), True),
        ((2025, 6, 7, 2, 0), False),  # the end, on Saturday
        ((2025, 6, 5, 1, 0), False),  # Thursday early: no Wednesday-night interval
    ],
)
def test_interval_past_midnight_continues_into_the_next_day(moment, expected):
    night_shift = [Interval(FRI, time(22), time(2))]

    assert inside(night_shift, local(MEXICO, *moment)) is expected


def test_interval_ending_at_midnight_ends_at_midnight():
    evening = [Interval(FRI, time(18), time(0))]

    assert inside(evening, local(MEXICO, 2025, 6, 6, 23, 59, 59)) is True
    assert inside(evening, local(MEXICO, 2025, 6, 7, 0, 0)) is False


def test_saturday_night_runs_into_sunday():
    weekend_night = [Interval(SAT, time(22), time(3))]

    assert inside(weekend_night, local(MEXICO, 2025, 6, 8, 2, 0)) is True  # Sunday 02:00
    assert inside(weekend_night, local(MEXICO, 2025, 6, 8, 22, 30)) is False  # Sunday night


def test_equal_start_and_end_is_a_whole_day():
    whole_day = [Interval(MON, time(8), time(8))]

    assert inside(whole_day, local(MEXICO, 2025, 6, 2, 8, 0)) is True
    assert inside(whole_day, local(MEXICO, 2025, 6, 3, 7, 59)) is True
    assert inside(whole_day, local(MEXICO, 2025, 6, 3, 8, 0)) is False


def test_instant_is_read_in_the_workspace_timezone():
    sunday_evening = [Interval(SUN, time(19), time(21))]
    monday_office = [Interval(MON, time(9), time(18))]
    instant = utc(2025, 6, 2, 2, 0)  # Monday 02:00 UTC = Sunday 20:00 in Mexico City

    assert inside(sunday_evening, instant, MEXICO) is True
    assert inside(monday_office, instant, MEXICO) is False
    assert inside(sunday_evening, instant, ZoneInfo("UTC")) is False


# Europe/Madrid, 2025-03-30 (Sunday): 02:00 CET jumps to 03:00 CEST at 01:00 UTC.


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (utc(2025, 3, 30, 0, 30), True),  # 01:30 CET
        (utc(2025, 3, 30, 0, 59), True),  # 01:59 CET
        (utc(2025, 3, 30, 1, 0), False),  # 03:00 CEST: 02:30 never happened, the interval ended
    ],
)
def test_spring_forward_interval_into_the_skipped_hour_ends_at_the_jump(instant, expected):
    assert inside([Interval(SUN, time(1), time(2, 30))], instant, MADRID) is expected


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (utc(2025, 3, 30, 0, 59), False),  # 01:59 CET
        (utc(2025, 3, 30, 1, 0), True),  # 03:00 CEST: the interval starting at 02:30 is on
        (utc(2025, 3, 30, 1, 59), True),  # 03:59 CEST
        (utc(2025, 3, 30, 2, 0), False),  # 04:00 CEST
    ],
)
def test_spring_forward_interval_from_the_skipped_hour_starts_at_the_jump(instant, expected):
    assert inside([Interval(SUN, time(2, 30), time(4))], instant, MADRID) is expected


def test_office_hours_follow_the_new_offset_after_spring_forward():
    office = [Interval(SUN, time(9), time(18))]

    assert inside(office, utc(2025, 3, 30, 6, 59), MADRID) is False  # 08:59 CEST
    assert inside(office, utc(2025, 3, 30, 7, 0), MADRID) is True  # 09:00 CEST
    assert inside(office, utc(2025, 3, 30, 16, 0), MADRID) is False  # 18:00 CEST


# Europe/Madrid, 2025-10-26 (Sunday): 03:00 CEST falls back to 02:00 CET at 01:00 UTC.


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (utc(2025, 10, 26, 0, 15), True),  # 02:15 CEST, first time
        (utc(2025, 10, 26, 0, 45), False),  # 02:45 CEST
        (utc(2025, 10, 26, 1, 15), True),  # 02:15 CET, second time
        (utc(2025, 10, 26, 1, 45), False),  # 02:45 CET
    ],
)
def test_fall_back_repeated_hour_is_inside_both_times(instant, expected):
    assert inside([Interval(SUN, time(2), time(2, 30))], instant, MADRID) is expected


def test_office_hours_follow_the_new_offset_after_fall_back():
    office = [Interval(SUN, time(9), time(18))]

    assert inside(office, utc(2025, 10, 26, 7, 59), MADRID) is False  # 08:59 CET
    assert inside(office, utc(2025, 10, 26, 8, 0), MADRID) is True  # 09:00 CET
    assert inside(office, utc(2025, 10, 26, 17, 0), MADRID) is False  # 18:00 CET


def test_night_interval_across_the_new_york_spring_forward():
    # Saturday 22:00 → Sunday 06:00 local, across 2025-03-09 02:00 EST → 03:00 EDT.
    night = [Interval(SAT, time(22), time(6))]

    assert inside(night, utc(2025, 3, 9, 3, 0), NEW_YORK) is True  # Sat 22:00 EST
    assert inside(night, utc(2025, 3, 9, 9, 59), NEW_YORK) is True  # Sun 05:59 EDT
    assert inside(night, utc(2025, 3, 9, 10, 0), NEW_YORK) is False  # Sun 06:00 EDT


@pytest.mark.parametrize(
    ("mode", "at_work", "off_work"),
    [("always", True, True), ("inside", True, False), ("outside", False, True)],
)
def test_schedule_modes(mode, at_work, off_work):
    office = [Interval(MON, time(9), time(18))]

    def duty(instant):
        return on_duty(schedule_mode=mode, intervals=office, instant=instant, zone=MEXICO)

    assert duty(local(MEXICO, 2025, 6, 2, 10)) is at_work
    assert duty(local(MEXICO, 2025, 6, 2, 20)) is off_work


@pytest.mark.parametrize(
    ("mode", "expected"), [("always", True), ("inside", False), ("outside", True)]
)
def test_modes_without_any_schedule(mode, expected):
    at = local(MEXICO, 2025, 6, 2, 10)

    assert on_duty(schedule_mode=mode, intervals=[], instant=at, zone=MEXICO) is expected


@pytest.mark.django_db
def test_assistant_on_duty_uses_enabled_schedules_and_workspace_timezone(workspace):
    workspace.timezone = "Europe/Madrid"
    workspace.save()
    assistant = AssistantFactory(workspace=workspace, schedule_mode=Assistant.ScheduleMode.INSIDE)
    ScheduleFactory(assistant=assistant, day_of_week=MON, start_time=time(9), end_time=time(18))
    ScheduleFactory(
        assistant=assistant, day_of_week=MON, start_time=time(18), end_time=time(23), enabled=False
    )

    assert assistant_on_duty(assistant, utc(2025, 6, 2, 7, 30)) is True  # 09:30 CEST
    assert assistant_on_duty(assistant, utc(2025, 6, 2, 6, 30)) is False  # 08:30 CEST
    assert assistant_on_duty(assistant, utc(2025, 6, 2, 17, 0)) is False  # 19:00, disabled one
