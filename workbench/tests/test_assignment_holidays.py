"""Auto-assignment follows the business calendar (accounts.calendar): on a closed date, or
outside a date's own hours, conversations wait in the queue (agents can still take them by
hand); the minute's sweep gives them out once the workspace opens again."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from accounts import calendar
from accounts.models import User
from accounts.tests.factories import DateOverrideFactory, WorkspaceFactory
from conversations import services
from conversations.models import Conversation
from conversations.services import InboundMessage
from integrations.tests.factories import IntegrationFactory
from workbench import services as workbench
from workbench.models import ChannelAssignment

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(workspace):
    channel = IntegrationFactory(workspace=workspace, platform="sandbox")
    ChannelAssignment.objects.create(integration=channel, workspace=workspace, auto_assign=True)
    return channel


def _customer_writes(channel, django_capture_on_commit_callbacks, customer="customer-1"):
    inbound = InboundMessage(
        external_contact_id=customer, external_id=str(uuid.uuid4()), content="hola"
    )
    with django_capture_on_commit_callbacks(execute=True):
        stored = services.message_receive_inbound(integration=channel, inbound=inbound)
    return Conversation.objects.get(pk=stored.message.conversation_id)


def _here(*users: User, at: datetime) -> None:
    """Online and heard from at ``at`` (presence is judged at the instant assignment runs)."""
    User.objects.filter(pk__in=[u.pk for u in users]).update(
        availability="online", open_sockets=1, last_seen_at=at
    )


def _at(workspace, day: date, hour: int, minute: int = 0) -> datetime:
    local = datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(workspace.timezone))
    return local.astimezone(UTC)


def test_on_a_closed_day_new_conversations_wait_and_agents_still_take_them_by_hand(
    workspace, channel, agent_user, django_capture_on_commit_callbacks
):
    workspace.settings = {"agents_see_unassigned": True}  # agents may claim from the queue
    workspace.save()
    _here(agent_user, at=timezone.now())
    DateOverrideFactory(workspace=workspace, date=calendar.today(workspace, timezone.now()))

    conversation = _customer_writes(channel, django_capture_on_commit_callbacks)

    assert conversation.assigned_agent_id is None
    assert workbench.assignment_sweep() == 0
    services.conversation_assign(by=agent_user, conversation=conversation, agent=agent_user)
    assert Conversation.objects.get(pk=conversation.pk).assigned_agent_id == agent_user.pk


def test_the_queue_drains_the_morning_after_a_holiday(
    workspace, channel, agent_user, other_agent, django_capture_on_commit_callbacks
):
    # given: two customers wrote while nobody was online; the next Monday is closed
    waiting = [
        _customer_writes(channel, django_capture_on_commit_callbacks, f"customer-{n}")
        for n in range(2)
    ]
    holiday = calendar.today(workspace, timezone.now()) + timedelta(days=3)
    DateOverrideFactory(workspace=workspace, date=holiday, name="Holiday")

    # when: the agents are online on the holiday, the minute's sweep gives nothing out
    during = _at(workspace, holiday, 23, 59)
    _here(agent_user, other_agent, at=during)
    assert workbench.assignment_sweep(now=during) == 0
    assert Conversation.objects.filter(assigned_agent__isnull=True).count() == 2

    # then: the first sweep of the next day does
    after = _at(workspace, holiday + timedelta(days=1), 0, 0)
    _here(agent_user, other_agent, at=after)
    assert workbench.assignment_sweep(now=after) == 2
    assignees = {Conversation.objects.get(pk=c.pk).assigned_agent_id for c in waiting}
    assert assignees == {agent_user.pk, other_agent.pk}


@pytest.mark.parametrize(
    ("hour", "minute", "assigned"),
    [(11, 59, 0), (12, 0, 1), (13, 59, 1), (14, 0, 0)],
    ids=["before", "opening", "open", "closing"],
)
def test_a_date_with_its_own_hours_assigns_only_during_them(
    workspace, channel, agent_user, django_capture_on_commit_callbacks, hour, minute, assigned
):
    _customer_writes(channel, django_capture_on_commit_callbacks)
    day = calendar.today(workspace, timezone.now()) + timedelta(days=2)
    DateOverrideFactory(
        workspace=workspace, date=day, closed=False, opens=time(12), closes=time(14)
    )
    instant = _at(workspace, day, hour, minute)
    _here(agent_user, at=instant)

    assert len(workbench.assignment_drain(workspace_id=workspace.pk, now=instant)) == assigned


@pytest.mark.parametrize(
    ("zone", "utc_instant", "closed_local_day"),
    [
        # Auckland (UTC+13 in January): 20:00 UTC on the 1st is 09:00 on the 2nd there.
        ("Pacific/Auckland", datetime(2031, 1, 1, 20, 0, tzinfo=UTC), date(2031, 1, 2)),
        # Honolulu (UTC-10): 05:00 UTC on the 2nd is 19:00 on the 1st there.
        ("Pacific/Honolulu", datetime(2031, 1, 2, 5, 0, tzinfo=UTC), date(2031, 1, 1)),
    ],
)
def test_the_closed_date_is_the_workspace_local_date(zone, utc_instant, closed_local_day):
    workspace = WorkspaceFactory(timezone=zone)
    utc_day = utc_instant.date()
    DateOverrideFactory(workspace=workspace, date=closed_local_day)

    assert calendar.open_for_assignment(workspace_id=workspace.pk, instant=utc_instant) is False
    # closing the UTC date instead leaves the local one open
    workspace.date_overrides.all().delete()
    DateOverrideFactory(workspace=workspace, date=utc_day)
    assert calendar.open_for_assignment(workspace_id=workspace.pk, instant=utc_instant) is True


def test_the_sweep_runs_every_minute():
    # What drains the queue when a holiday ends or a date's own hours begin.
    sweep = settings.CELERY_BEAT_SCHEDULE["assignment-sweep"]
    assert (sweep["task"], sweep["schedule"]) == ("workbench.tasks.assignment_sweep_task", 60.0)
