"""Holidays and dates with their own hours (accounts.calendar) in the assistants' schedules: a
closed date keeps an "inside hours" assistant quiet and lets the "outside hours" one answer,
through the real auto-reply path; a date's own hours replace the weekly ones; the date is the
workspace's local date; an interval of the day before stops at the override date's midnight."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts import services as accounts_services
from accounts.tests.factories import DateOverrideFactory
from assistants import auto_reply
from assistants.models import Assistant
from assistants.schedule import assistant_on_duty
from assistants.tests.factories import AssistantFactory, ScheduleFactory
from conversations.models import Message
from conversations.services import InboundMessage
from integrations.inbound import customer_message_receive
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

MONDAY, TUESDAY, SUNDAY = 1, 2, 0


def _next_weekday(workspace, weekday: int) -> date:
    """The next local date falling on ``weekday`` (0 = Sunday), at least a day away."""
    day = timezone.now().astimezone(ZoneInfo(workspace.timezone)).date() + timedelta(days=1)
    while (day.weekday() + 1) % 7 != weekday:
        day += timedelta(days=1)
    return day


def _at(workspace, day: date, hour: int, minute: int = 0) -> datetime:
    local = datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(workspace.timezone))
    return local.astimezone(UTC)


def _office(workspace, mode: str, *, start: int = 9, end: int = 18, day: int = MONDAY):
    """A fixed-reply assistant answering only inside (or outside) its weekly hours, as the
    channel's default: the out-of-hours reply is the "outside" one."""
    assistant = AssistantFactory(
        workspace=workspace, schedule_mode=mode, auto_response="Estamos cerrados, te escribimos."
    )
    ScheduleFactory(
        assistant=assistant, day_of_week=day, start_time=time(start), end_time=time(end)
    )
    return assistant


def _customer_writes(workspace, assistant) -> Message:
    channel = IntegrationFactory(
        workspace=workspace, platform="whatsapp", default_assistant=assistant
    )
    inbound = InboundMessage(
        external_contact_id="5215511111111", external_id="wamid.1", content="Hola"
    )
    return customer_message_receive(integration=channel, inbound=inbound).message


def _answer(message: Message, now: datetime) -> tuple[str, str]:
    outcome = auto_reply.auto_reply_process(message_id=message.pk, now=now)
    return outcome.status, outcome.reason


# --- the done-means: a holiday -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "week", "expected"),
    [
        ("inside", 0, ("skipped", "off_duty")),
        ("outside", 0, ("sent", "auto_response")),
        # the same hour a week later: an ordinary Monday, the weekly hours decide again
        ("inside", 1, ("sent", "auto_response")),
        ("outside", 1, ("skipped", "off_duty")),
    ],
    ids=["inside-holiday", "outside-holiday", "inside-next-week", "outside-next-week"],
)
def test_a_holiday_keeps_the_office_assistant_quiet_and_lets_the_out_of_hours_one_answer(
    workspace, admin_user, mode, week, expected
):
    assistant = _office(workspace, mode)
    holiday = _next_weekday(workspace, MONDAY)
    accounts_services.date_override_create(by=admin_user, day=holiday, name="Día festivo")
    message = _customer_writes(workspace, assistant)

    # 10:00 on a Monday: inside the weekly hours (9-18)
    assert _answer(message, _at(workspace, holiday + timedelta(days=7 * week), 10)) == expected


def test_the_out_of_hours_reply_is_what_the_customer_gets_on_a_holiday(workspace, admin_user):
    assistant = _office(workspace, Assistant.ScheduleMode.OUTSIDE)
    holiday = _next_weekday(workspace, MONDAY)
    accounts_services.date_override_create(by=admin_user, day=holiday, name="Día festivo")
    message = _customer_writes(workspace, assistant)

    outcome = auto_reply.auto_reply_process(message_id=message.pk, now=_at(workspace, holiday, 11))

    assert outcome.reply.content == "Estamos cerrados, te escribimos."
    assert outcome.reply.assistant_id == assistant.pk


# --- a date with its own hours -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "expected"),
    [
        (10, ("skipped", "off_duty")),  # inside the weekly 9-18, before the day's 12-14
        (12, ("sent", "auto_response")),
        (13, ("sent", "auto_response")),
        (14, ("skipped", "off_duty")),  # the end is exclusive
        (16, ("skipped", "off_duty")),
    ],
)
def test_a_date_with_its_own_hours_replaces_the_weekly_ones(workspace, admin_user, hour, expected):
    assistant = _office(workspace, Assistant.ScheduleMode.INSIDE)
    day = _next_weekday(workspace, MONDAY)
    accounts_services.date_override_create(
        by=admin_user, day=day, closed=False, opens=time(12), closes=time(14), name="Inventario"
    )
    message = _customer_writes(workspace, assistant)

    assert _answer(message, _at(workspace, day, hour)) == expected


def test_own_hours_open_a_day_without_weekly_hours(workspace, admin_user):
    inside = _office(workspace, Assistant.ScheduleMode.INSIDE)  # Mondays only
    outside = _office(workspace, Assistant.ScheduleMode.OUTSIDE)
    sunday = _next_weekday(workspace, SUNDAY)
    accounts_services.date_override_create(
        by=admin_user, day=sunday, closed=False, opens=time(10), closes=time(14)
    )

    at_eleven = _at(workspace, sunday, 11)
    assert (assistant_on_duty(inside, at_eleven), assistant_on_duty(outside, at_eleven)) == (
        True,
        False,
    )
    at_three = _at(workspace, sunday, 15)
    assert (assistant_on_duty(inside, at_three), assistant_on_duty(outside, at_three)) == (
        False,
        True,
    )


def test_an_always_assistant_ignores_the_calendar(workspace):
    assistant = AssistantFactory(workspace=workspace, schedule_mode=Assistant.ScheduleMode.ALWAYS)
    day = _next_weekday(workspace, MONDAY)
    DateOverrideFactory(workspace=workspace, date=day)

    assert assistant_on_duty(assistant, _at(workspace, day, 10)) is True


# --- the workspace's date, and midnight ----------------------------------------------------------


@pytest.mark.parametrize(
    ("closed_on", "expected"),
    [("local-monday", ("skipped", "off_duty")), ("utc-tuesday", ("sent", "auto_response"))],
)
def test_the_holiday_is_the_workspace_local_date_not_the_utc_one(
    workspace, admin_user, closed_on, expected
):
    # Mexico City is UTC-6: Monday 19:00 there is Tuesday 01:00 in UTC.
    assert workspace.timezone == "America/Mexico_City"
    assistant = _office(workspace, Assistant.ScheduleMode.INSIDE, start=18, end=23)
    monday = _next_weekday(workspace, MONDAY)
    instant = _at(workspace, monday, 19)
    assert instant.date() == monday + timedelta(days=1)
    day = monday if closed_on == "local-monday" else monday + timedelta(days=1)
    accounts_services.date_override_create(by=admin_user, day=day)
    message = _customer_writes(workspace, assistant)

    assert _answer(message, instant) == expected


def test_a_night_interval_stops_at_the_start_of_a_closed_date(workspace):
    # Sunday 22:00 to Monday 02:00 every week; the Monday is closed, the Sunday is not.
    assistant = _office(workspace, Assistant.ScheduleMode.INSIDE, start=22, end=2, day=SUNDAY)
    monday = _next_weekday(workspace, MONDAY)
    DateOverrideFactory(workspace=workspace, date=monday)

    assert assistant_on_duty(assistant, _at(workspace, monday - timedelta(days=1), 23)) is True
    assert assistant_on_duty(assistant, _at(workspace, monday, 1)) is False


def test_the_day_after_a_closed_date_follows_its_weekly_hours_again(workspace):
    # Sunday 22:00 to Monday 02:00; the Sunday is closed: Monday 01:00 is still inside, as the
    # Monday follows the weekly intervals, the part of Sunday's past midnight included.
    assistant = _office(workspace, Assistant.ScheduleMode.INSIDE, start=22, end=2, day=SUNDAY)
    monday = _next_weekday(workspace, MONDAY)
    DateOverrideFactory(workspace=workspace, date=monday - timedelta(days=1))

    assert assistant_on_duty(assistant, _at(workspace, monday - timedelta(days=1), 23)) is False
    assert assistant_on_duty(assistant, _at(workspace, monday, 1)) is True


def test_another_workspaces_holiday_changes_nothing(workspace, outsider):
    assistant = _office(workspace, Assistant.ScheduleMode.INSIDE)
    monday = _next_weekday(workspace, MONDAY)
    DateOverrideFactory(workspace=outsider.workspace, date=monday)

    assert assistant_on_duty(assistant, _at(workspace, monday, 10)) is True


# --- queries --------------------------------------------------------------------------------------


def test_on_duty_costs_one_query_for_the_date_and_one_for_the_schedules(
    workspace, django_assert_num_queries
):
    assistant = _office(workspace, Assistant.ScheduleMode.INSIDE)
    monday = _next_weekday(workspace, MONDAY)
    loaded = Assistant.objects.select_related("workspace").get(pk=assistant.pk)
    with django_assert_num_queries(2):  # no override: the date, then the schedules
        assert assistant_on_duty(loaded, _at(workspace, monday, 10)) is True

    DateOverrideFactory(workspace=workspace, date=monday)
    prefetched = (
        Assistant.objects.select_related("workspace")
        .prefetch_related("schedules")
        .get(pk=assistant.pk)
    )
    with django_assert_num_queries(1):  # the date decides; the schedules are not read
        assert assistant_on_duty(prefetched, _at(workspace, monday, 10)) is False
