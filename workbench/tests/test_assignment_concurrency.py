"""Auto-assignment with several workers at once, on PostgreSQL: nobody over capacity, no
conversation assigned twice, the queue drained exactly as far as capacity allows."""

from __future__ import annotations

from collections import Counter

import pytest
from django.utils import timezone

from accounts.models import User
from conversations.models import Conversation, Event
from conversations.tests.factories import ConversationFactory
from flame.testing import race
from integrations.tests.factories import IntegrationFactory
from workbench import services as workbench
from workbench.models import AgentCapacity, ChannelAssignment, Notification

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queue_of_ten(workspace, agent_user, other_agent):
    channel = IntegrationFactory(workspace=workspace, platform="sandbox")
    ChannelAssignment.objects.create(integration=channel, workspace=workspace, auto_assign=True)
    User.objects.filter(pk__in=[agent_user.pk, other_agent.pk]).update(
        availability="online", open_sockets=1, last_seen_at=timezone.now()
    )
    for agent in (agent_user, other_agent):
        AgentCapacity.objects.create(user=agent, workspace=workspace, capacity=3)
    return [
        ConversationFactory(workspace=workspace, integration=channel, waiting_since=timezone.now())
        for _ in range(10)
    ]


def _assigned_lines() -> Counter:
    lines = Event.objects.filter(kind=Event.ACTIVITY, payload__activity__kind="assigned")
    return Counter(lines.values_list("conversation_id", flat=True))


def test_concurrent_drains_fill_capacity_exactly_once(
    queue_of_ten, workspace, agent_user, other_agent
):
    results = race(lambda n: len(workbench.assignment_drain(workspace_id=workspace.pk)), 6)

    assert sum(results) == 6
    loads = Counter(
        Conversation.objects.filter(assigned_agent__isnull=False).values_list(
            "assigned_agent_id", flat=True
        )
    )
    assert loads == {agent_user.pk: 3, other_agent.pk: 3}
    lines = _assigned_lines()
    assert len(lines) == 6
    assert set(lines.values()) == {1}  # each assigned once, announced once
    assert Notification.objects.filter(kind="assigned").count() == 6
    assert Conversation.objects.filter(assigned_agent__isnull=True).count() == 4


def test_concurrent_single_steps_never_overfill(queue_of_ten, workspace, agent_user, other_agent):
    AgentCapacity.objects.filter(user=other_agent).update(capacity=0)

    results = race(lambda n: workbench.assign_next(workspace_id=workspace.pk), 8)

    assigned = [conversation for conversation in results if conversation is not None]
    assert len(assigned) == 3
    assert len({conversation.pk for conversation in assigned}) == 3
    assert Conversation.objects.filter(assigned_agent=agent_user).count() == 3
    assert Conversation.objects.filter(assigned_agent=other_agent).count() == 0
