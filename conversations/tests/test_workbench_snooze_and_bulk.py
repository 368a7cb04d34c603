"""Snooze (until a time or until the customer writes) and one change to many conversations."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from conversations import services
from conversations.models import Conversation, Event
from conversations.services import InboundMessage
from conversations.tests.factories import ConversationFactory, MessageFactory, TagFactory
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db


def _ids(client, query: str = "") -> list[str]:
    return [c["id"] for c in client.get(f"/api/conversations?{query}").json()["results"]]


def _later(**delta) -> str:
    return (timezone.now() + timedelta(**delta)).isoformat()


@pytest.fixture
def open_one(workspace, agent_user):
    return ConversationFactory(workspace=workspace, assigned_agent=agent_user)


def test_a_snoozed_conversation_leaves_the_open_list_until_its_time(
    agent_client, open_one, workspace, agent_user
):
    other = ConversationFactory(workspace=workspace, assigned_agent=agent_user)

    response = agent_client.post(
        f"/api/conversations/{open_one.pk}/snooze", {"until": _later(hours=2)}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["snoozed"] is True
    assert _ids(agent_client, "status=active&snoozed=false") == [str(other.pk)]
    assert _ids(agent_client, "snoozed=true") == [str(open_one.pk)]

    # an hour later nothing happens; at the time it is back, with a history line
    assert services.conversations_wake_snoozed(now=timezone.now() + timedelta(hours=1)) == 0
    assert services.conversations_wake_snoozed(now=timezone.now() + timedelta(hours=3)) == 1
    open_one.refresh_from_db()
    assert (open_one.snoozed, open_one.snoozed_until, open_one.status) == (False, None, "active")
    lines = [e.payload["activity"] for e in Event.objects.filter(kind=Event.ACTIVITY)]
    assert [line["kind"] for line in lines] == ["snoozed", "unsnoozed"]
    assert lines[1] == {"kind": "unsnoozed", "by": None, "reason": "time"}


def test_a_customer_message_wakes_a_conversation_snoozed_until_they_write(
    agent_client, workspace, agent_user, admin_user
):
    channel = IntegrationFactory(workspace=workspace, platform="sandbox")
    first = services.message_receive_inbound(
        integration=channel,
        inbound=InboundMessage(external_contact_id="c1", external_id="m1", content="hola"),
    ).message
    conversation = services.conversation_assign(
        by=admin_user, conversation=first.conversation, agent=agent_user
    )
    agent_client.post(f"/api/conversations/{conversation.pk}/snooze", {"until": None}, "json")
    conversation.refresh_from_db()
    assert (conversation.snoozed, conversation.snoozed_until) == (True, None)
    assert services.conversations_wake_snoozed(now=timezone.now() + timedelta(days=400)) == 0

    services.message_receive_inbound(
        integration=channel,
        inbound=InboundMessage(external_contact_id="c1", external_id="m2", content="¿hola?"),
    )

    conversation.refresh_from_db()
    assert conversation.snoozed is False
    assert _ids(agent_client, "snoozed=false") == [str(conversation.pk)]


def test_resolving_ends_a_snooze(agent_user, open_one):
    services.conversation_snooze(by=agent_user, conversation=open_one, until=None)

    services.conversation_set_status(by=agent_user, conversation=open_one, status="resolved")

    open_one.refresh_from_db()
    assert (open_one.status, open_one.snoozed) == ("resolved", False)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"until": "2001-01-01T00:00:00Z"}, "until"),
        ({"until": "tomorrow"}, "until"),
        ({}, "until"),
        ({"until": None, "minutes": 5}, "minutes"),
    ],
)
def test_a_bad_snooze_is_refused_and_changes_nothing(agent_client, open_one, body, field):
    response = agent_client.post(f"/api/conversations/{open_one.pk}/snooze", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    open_one.refresh_from_db()
    assert open_one.snoozed is False
    assert not Event.objects.exists()


def test_a_closed_conversation_cannot_be_snoozed(agent_client, workspace, agent_user):
    closed = ConversationFactory(workspace=workspace, assigned_agent=agent_user, status="resolved")

    response = agent_client.post(f"/api/conversations/{closed.pk}/snooze", {"until": None}, "json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_open"
    closed.refresh_from_db()
    assert closed.snoozed is False


def test_another_workspace_cannot_snooze_or_wake(outsider_client, open_one, agent_user):
    services.conversation_snooze(by=agent_user, conversation=open_one, until=None)

    for path in ("snooze", "unsnooze"):
        response = outsider_client.post(
            f"/api/conversations/{open_one.pk}/{path}", {"until": None}, format="json"
        )
        assert response.status_code == 404
    open_one.refresh_from_db()
    assert open_one.snoozed is True


def test_unsnooze_brings_it_back_at_once(agent_client, open_one, agent_user):
    services.conversation_snooze(by=agent_user, conversation=open_one, until=None)

    response = agent_client.post(f"/api/conversations/{open_one.pk}/unsnooze")

    assert response.status_code == 200
    assert response.json()["snoozed"] is False


# --- unread counts per tab -----------------------------------------------------------------------


def test_unread_counts_per_tab_leave_out_read_snoozed_and_closed(
    agent_client, admin_client, workspace, agent_user, other_agent
):
    ConversationFactory(workspace=workspace, assigned_agent=agent_user, unread_count=2)
    ConversationFactory(workspace=workspace, assigned_agent=agent_user, unread_count=0)
    ConversationFactory(workspace=workspace, assigned_agent=other_agent, unread_count=1)
    ConversationFactory(workspace=workspace, unread_count=3)
    ConversationFactory(workspace=workspace, unread_count=1, status="resolved")
    ConversationFactory(workspace=workspace, unread_count=1, snoozed=True)

    mine = agent_client.get("/api/conversations/counts").json()
    everyone = admin_client.get("/api/conversations/counts").json()

    assert mine == {"mine": 1, "unassigned": 0, "all": 1, "waiting": 0}
    assert everyone == {"mine": 0, "unassigned": 1, "all": 3, "waiting": 0}


def test_unread_counts_are_one_query_whatever_the_number(
    admin_client, workspace, django_assert_num_queries
):
    for _ in range(5):
        ConversationFactory(workspace=workspace, unread_count=1)

    with django_assert_num_queries(2):  # the user, the counts
        assert admin_client.get("/api/conversations/counts").json()["all"] == 5


# --- bulk ----------------------------------------------------------------------------------------


@pytest.fixture
def three(workspace):
    return [ConversationFactory(workspace=workspace) for _ in range(3)]


def _bulk(client, conversations, **body):
    ids = [str(c.pk) for c in conversations]
    return client.post("/api/conversations/bulk", {"conversation_ids": ids, **body}, format="json")


def test_bulk_assign_changes_each_and_announces_each(admin_client, three, agent_user):
    response = _bulk(admin_client, three, action="assign", agent_id=str(agent_user.pk))

    assert response.status_code == 200
    assert [c["assigned_agent_id"] for c in response.json()["conversations"]] == [
        str(agent_user.pk)
    ] * 3
    assert Conversation.objects.filter(assigned_agent=agent_user).count() == 3
    updated = Event.objects.filter(kind="conversation:updated")
    assert sorted(str(e.conversation_id) for e in updated) == sorted(str(c.pk) for c in three)
    lines = Event.objects.filter(kind=Event.ACTIVITY)
    assert [e.payload["activity"]["kind"] for e in lines] == ["assigned"] * 3


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ({"action": "status", "status": "resolved"}, lambda c: c.status == "resolved"),
        ({"action": "priority", "priority": "urgent"}, lambda c: c.priority == "urgent"),
        ({"action": "snooze", "until": None}, lambda c: c.snoozed),
        ({"action": "add_tag", "tag": "VIP"}, lambda c: [t.name for t in c.tags.all()] == ["VIP"]),
    ],
)
def test_bulk_actions_apply_to_every_conversation(admin_client, three, body, check):
    response = _bulk(admin_client, three, **body)

    assert response.status_code == 200
    for conversation in Conversation.objects.filter(pk__in=[c.pk for c in three]):
        assert check(conversation)
    assert Event.objects.filter(kind=Event.ACTIVITY).count() == 3


def test_bulk_remove_tag_only_touches_conversations_that_have_it(admin_client, workspace, three):
    vip = TagFactory(workspace=workspace, name="vip")
    three[0].tags.add(vip)

    response = _bulk(admin_client, three, action="remove_tag", tag="VIP")

    assert response.status_code == 200
    assert not vip.conversations.exists()
    flags = Conversation.objects.order_by("created_at").values_list("tags_set_by_agent", flat=True)
    assert list(flags) == [True, False, False]  # the others' tags stay the AI's
    assert Event.objects.filter(kind=Event.ACTIVITY).count() == 1


def test_bulk_with_another_workspaces_conversation_changes_nothing(admin_client, three, outsider):
    foreign = ConversationFactory(workspace=outsider.workspace)

    response = _bulk(admin_client, [*three, foreign], action="priority", priority="high")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "conversation_ids": [f"Not found: {foreign.pk}."]
    }
    assert not Conversation.objects.filter(priority="high").exists()
    assert not Event.objects.exists()


def test_bulk_is_one_transaction_a_refusal_for_one_undoes_all(admin_client, workspace, three):
    resolved = ConversationFactory(workspace=workspace, status="resolved")

    response = _bulk(admin_client, [*three, resolved], action="snooze", until=_later(days=1))

    assert response.status_code == 409
    assert not Conversation.objects.filter(snoozed=True).exists()
    assert not Event.objects.exists()


def test_an_agent_cannot_bulk_assign_to_a_colleague(
    agent_client, workspace, agent_user, other_agent
):
    mine = [ConversationFactory(workspace=workspace, assigned_agent=agent_user) for _ in range(2)]

    response = _bulk(agent_client, mine, action="assign", agent_id=str(other_agent.pk))

    assert response.status_code == 403
    assert Conversation.objects.filter(assigned_agent=agent_user).count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "priority"}, "priority"),
        ({"action": "priority", "priority": "high", "status": "resolved"}, "status"),
        ({"action": "fly"}, "action"),
        ({"action": "add_tag", "tag": "  "}, "tag"),
        ({"action": "assign", "agent_id": str(uuid.uuid4())}, "agent_id"),
        ({"action": "status", "status": "resolved", "extra": 1}, "extra"),
    ],
)
def test_bad_bulk_input_is_refused_and_changes_nothing(admin_client, three, body, field):
    response = _bulk(admin_client, three, **body)

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not Event.objects.exists()


def test_bulk_needs_at_least_one_and_at_most_a_hundred(admin_client):
    none = admin_client.post(
        "/api/conversations/bulk",
        {"conversation_ids": [], "action": "status", "status": "resolved"},
        format="json",
    )
    many = admin_client.post(
        "/api/conversations/bulk",
        {
            "conversation_ids": [str(uuid.uuid4()) for _ in range(101)],
            "action": "status",
            "status": "resolved",
        },
        format="json",
    )

    assert (none.status_code, many.status_code) == (400, 400)


def test_bulk_on_a_waiting_conversation_keeps_it_waiting(admin_client, workspace):
    conversation = ConversationFactory(workspace=workspace)
    MessageFactory(conversation=conversation, content="help")

    _bulk(admin_client, [conversation], action="priority", priority="low")

    conversation.refresh_from_db()
    assert conversation.is_waiting
