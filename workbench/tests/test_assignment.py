"""Auto-assignment: round-robin to available agents within their capacity, the waiting queue
draining as capacity frees, never while an assistant answers; and its settings."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services as accounts_services
from accounts.models import User
from accounts.tests.factories import UserFactory
from assistants.tests.factories import AIAssistantFactory, AssistantFactory
from conversations import services
from conversations.models import Conversation, Event
from conversations.services import InboundMessage
from integrations.tests.factories import IntegrationFactory
from workbench import services as workbench
from workbench.models import AgentCapacity, ChannelAssignment, Notification

pytestmark = pytest.mark.django_db


def _here(*users: User, availability: str = "online") -> None:
    User.objects.filter(pk__in=[u.pk for u in users]).update(
        availability=availability, open_sockets=1, last_seen_at=timezone.now()
    )


def _capacity(user: User, capacity: int) -> None:
    AgentCapacity.objects.update_or_create(
        user=user, defaults={"workspace_id": user.workspace_id, "capacity": capacity}
    )


@pytest.fixture
def channel(workspace):
    channel = IntegrationFactory(workspace=workspace, platform="sandbox")
    ChannelAssignment.objects.create(integration=channel, workspace=workspace, auto_assign=True)
    return channel


@pytest.fixture
def writes(channel, django_capture_on_commit_callbacks):
    """A customer writes on the channel (the whole commit runs, as in production)."""

    def write(customer: str, text: str = "hola") -> Conversation:
        inbound = InboundMessage(
            external_contact_id=customer, external_id=str(uuid.uuid4()), content=text
        )
        with django_capture_on_commit_callbacks(execute=True):
            message = services.message_receive_inbound(integration=channel, inbound=inbound)
        return Conversation.objects.get(pk=message.message.conversation_id)

    return write


def _load(user: User) -> int:
    return Conversation.objects.filter(assigned_agent=user).count()


def test_new_conversations_go_round_robin_within_capacity_then_wait(
    writes, agent_user, other_agent
):
    _here(agent_user, other_agent)
    _capacity(agent_user, 2)
    _capacity(other_agent, 1)

    conversations = [writes(f"customer-{n}") for n in range(5)]

    first, second = (Conversation.objects.get(pk=c.pk) for c in conversations[:2])
    assert {first.assigned_agent_id, second.assigned_agent_id} == {agent_user.pk, other_agent.pk}
    assert (_load(agent_user), _load(other_agent)) == (2, 1)
    waiting = Conversation.objects.filter(assigned_agent__isnull=True)
    assert sorted(c.pk for c in waiting) == sorted(c.pk for c in conversations[3:])


def test_an_automatic_assignment_is_a_history_line_and_a_notification(writes, agent_user):
    _here(agent_user)

    conversation = writes("customer-1")

    line = Event.objects.get(kind=Event.ACTIVITY, conversation_id=conversation.pk)
    assert line.payload["activity"] == {
        "kind": "assigned",
        "by": None,
        "agent": {"id": str(agent_user.pk), "name": "Aldo Agent"},
        "previous": None,
        "automatic": True,
    }
    assert Notification.objects.get().kind == "assigned"


@pytest.mark.parametrize(
    "free", ["resolve", "snooze", "reassign", "capacity"], ids=lambda free: f"after-{free}"
)
def test_the_queue_drains_as_soon_as_capacity_frees(
    writes, agent_user, admin_user, django_capture_on_commit_callbacks, free
):
    _here(agent_user)
    _capacity(agent_user, 1)
    taken = writes("customer-1")
    queued = writes("customer-2")
    assert Conversation.objects.get(pk=queued.pk).assigned_agent_id is None

    with django_capture_on_commit_callbacks(execute=True):
        conversation = Conversation.objects.get(pk=taken.pk)
        if free == "resolve":
            services.conversation_set_status(
                by=agent_user, conversation=conversation, status="resolved"
            )
        elif free == "snooze":
            services.conversation_snooze(by=agent_user, conversation=conversation, until=None)
        elif free == "reassign":
            services.conversation_assign(by=admin_user, conversation=conversation, agent=admin_user)
        else:
            workbench.agent_capacity_set(by=admin_user, member=agent_user, capacity=2)

    assert Conversation.objects.get(pk=queued.pk).assigned_agent_id == agent_user.pk


def test_an_agent_coming_online_takes_from_the_queue(
    writes, agent_user, django_capture_on_commit_callbacks
):
    queued = writes("customer-1")
    assert Conversation.objects.get(pk=queued.pk).assigned_agent_id is None

    with django_capture_on_commit_callbacks(execute=True):
        accounts_services.presence_socket_opened(user_id=agent_user.pk)

    assert Conversation.objects.get(pk=queued.pk).assigned_agent_id == agent_user.pk


def test_setting_oneself_online_takes_from_the_queue(
    writes, agent_user, django_capture_on_commit_callbacks
):
    _here(agent_user, availability="busy")
    queued = writes("customer-1")
    agent_user.refresh_from_db()  # as a request loads them

    with django_capture_on_commit_callbacks(execute=True):
        accounts_services.user_set_availability(user=agent_user, availability="online")

    assert Conversation.objects.get(pk=queued.pk).assigned_agent_id == agent_user.pk


def test_busy_offline_away_and_inactive_members_are_passed_over(
    writes, workspace, agent_user, other_agent
):
    _here(agent_user, availability="busy")
    _here(other_agent, availability="offline")
    away = UserFactory(workspace=workspace, name="Away")
    User.objects.filter(pk=away.pk).update(
        last_seen_at=timezone.now() - timedelta(minutes=6), open_sockets=0
    )
    gone = UserFactory(workspace=workspace, name="Gone", is_active=False)
    _here(gone)

    conversation = writes("customer-1")

    assert Conversation.objects.get(pk=conversation.pk).assigned_agent_id is None


def test_a_member_whose_socket_closed_a_minute_ago_still_counts(writes, agent_user):
    User.objects.filter(pk=agent_user.pk).update(
        last_seen_at=timezone.now() - timedelta(minutes=1), open_sockets=0
    )

    conversation = writes("customer-1")

    assert Conversation.objects.get(pk=conversation.pk).assigned_agent_id == agent_user.pk


def test_never_while_an_ai_assistant_answers_until_it_hands_over(
    writes, channel, workspace, agent_user, django_capture_on_commit_callbacks
):
    assistant = AIAssistantFactory(workspace=workspace)
    channel.default_assistant = assistant
    channel.save()
    _here(agent_user)

    conversation = writes("customer-1")
    assert Conversation.objects.get(pk=conversation.pk).assigned_agent_id is None

    with django_capture_on_commit_callbacks(execute=True):
        services.conversation_hand_off(
            conversation=Conversation.objects.get(pk=conversation.pk),
            assistant=assistant,
            reason="no_match",
        )

    conversation.refresh_from_db()
    assert (conversation.status, conversation.assigned_agent_id) == ("pending", agent_user.pk)


@pytest.mark.parametrize("assistant_state", ["fixed_reply", "inactive", "off_duty"])
def test_an_assistant_that_does_not_answer_does_not_hold_the_conversation(
    writes, channel, workspace, agent_user, assistant_state
):
    if assistant_state == "fixed_reply":
        assistant = AssistantFactory(workspace=workspace)
    elif assistant_state == "inactive":
        assistant = AIAssistantFactory(workspace=workspace, status="inactive")
    else:
        assistant = AIAssistantFactory(workspace=workspace, schedule_mode="inside")
    channel.default_assistant = assistant
    channel.save()
    _here(agent_user)

    conversation = writes("customer-1")

    assert Conversation.objects.get(pk=conversation.pk).assigned_agent_id == agent_user.pk


def test_a_channel_without_auto_assignment_assigns_nobody(writes, channel, agent_user):
    ChannelAssignment.objects.filter(integration=channel).update(auto_assign=False)
    _here(agent_user)

    conversation = writes("customer-1")

    assert Conversation.objects.get(pk=conversation.pk).assigned_agent_id is None
    assert workbench.assignment_sweep() == 0


def test_a_conversation_someone_claimed_meanwhile_stays_theirs(
    channel, workspace, agent_user, other_agent
):
    _here(agent_user)
    inbound = InboundMessage(external_contact_id="c1", external_id="m1", content="hola")
    stored = services.message_receive_inbound(integration=channel, inbound=inbound).message
    conversation = Conversation.objects.get(pk=stored.conversation_id)
    Conversation.objects.filter(pk=conversation.pk).update(assigned_agent=other_agent)

    assigned = services.conversation_assign_automatically(
        conversation=conversation, agent=agent_user
    )

    assert assigned is None
    assert Conversation.objects.get(pk=conversation.pk).assigned_agent_id == other_agent.pk
    assert not Event.objects.filter(kind=Event.ACTIVITY).exists()


def test_the_sweep_catches_what_a_lost_drain_missed(channel, workspace, agent_user):
    for n in range(2):
        inbound = InboundMessage(external_contact_id=f"c{n}", external_id=f"m{n}", content="x")
        services.message_receive_inbound(integration=channel, inbound=inbound)  # never committed
    _here(agent_user)

    assert workbench.assignment_sweep() == 2
    assert _load(agent_user) == 2


# --- settings (admins) ---------------------------------------------------------------------------


def test_admins_see_and_change_the_assignment_settings(
    admin_client, channel, workspace, agent_user, django_capture_on_commit_callbacks
):
    other_channel = IntegrationFactory(workspace=workspace, platform="sandbox", name="Zeta")
    _here(agent_user)

    shown = admin_client.get("/api/assignment").json()
    with django_capture_on_commit_callbacks(execute=True):
        turned_on = admin_client.patch(
            f"/api/assignment/channels/{other_channel.pk}", {"auto_assign": True}, "json"
        )
    capacity = admin_client.patch(
        f"/api/assignment/agents/{agent_user.pk}", {"capacity": 7}, "json"
    )
    alert = admin_client.patch("/api/assignment", {"waiting_alert_minutes": 30}, "json")

    assert [(c["name"], c["auto_assign"]) for c in shown["channels"]] == [
        (channel.name, True),
        ("Zeta", False),
    ]
    aldo = next(a for a in shown["agents"] if a["id"] == str(agent_user.pk))
    assert (aldo["availability"], aldo["capacity"], aldo["open_conversations"]) == (
        "online",
        5,
        0,
    )
    assert turned_on.status_code == 200
    assert ChannelAssignment.objects.get(integration=other_channel).auto_assign is True
    assert capacity.json()["agents"][0]["capacity"] == 7
    assert AgentCapacity.objects.get(user=agent_user).capacity == 7
    assert alert.json()["waiting_alert_minutes"] == 30


def test_agents_cannot_touch_the_assignment_settings(agent_client, channel, agent_user):
    assert agent_client.get("/api/assignment").status_code == 403
    response = agent_client.patch(
        f"/api/assignment/channels/{channel.pk}", {"auto_assign": False}, "json"
    )
    assert response.status_code == 403
    assert ChannelAssignment.objects.get(integration=channel).auto_assign is True


def test_another_workspaces_channel_and_member_are_not_found(
    admin_client, outsider, outsider_client, channel, agent_user
):
    foreign_channel = IntegrationFactory(workspace=outsider.workspace, platform="sandbox")

    assert (
        admin_client.patch(
            f"/api/assignment/channels/{foreign_channel.pk}", {"auto_assign": True}, "json"
        ).status_code
        == 404
    )
    assert (
        admin_client.patch(
            f"/api/assignment/agents/{outsider.pk}", {"capacity": 3}, "json"
        ).status_code
        == 404
    )
    assert (
        outsider_client.patch(
            f"/api/assignment/channels/{channel.pk}", {"auto_assign": False}, "json"
        ).status_code
        == 404
    )
    assert not ChannelAssignment.objects.filter(integration=foreign_channel).exists()
    assert ChannelAssignment.objects.get(integration=channel).auto_assign is True
    assert not AgentCapacity.objects.exists()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("agents", {"capacity": -1}, "capacity"),
        ("agents", {"capacity": 101}, "capacity"),
        ("agents", {"capacity": "many"}, "capacity"),
        ("channels", {"auto_assign": "perhaps"}, "auto_assign"),
        ("channels", {}, "auto_assign"),
        ("", {"waiting_alert_minutes": 0}, "waiting_alert_minutes"),
        ("", {"waiting_alert_minutes": 5, "extra": 1}, "extra"),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(
    admin_client, channel, agent_user, path, body, field
):
    target = {"agents": f"agents/{agent_user.pk}", "channels": f"channels/{channel.pk}", "": ""}
    url = f"/api/assignment/{target[path]}".rstrip("/")

    response = admin_client.patch(url, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not AgentCapacity.objects.exists()
    assert ChannelAssignment.objects.get(integration=channel).auto_assign is True


def test_the_settings_cost_the_same_for_few_and_many_members(admin_client, workspace, channel):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get("/api/assignment").status_code == 200
        return len(captured)

    few = queries()
    for n in range(8):
        UserFactory(workspace=workspace, email=f"m{n}@a.example")
    assert queries() == few
