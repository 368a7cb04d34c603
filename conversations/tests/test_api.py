from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations import services
from conversations.models import Conversation, Event, Message
from conversations.tests.factories import (
    ContactFactory,
    ConversationFactory,
    MessageFactory,
    TagFactory,
)
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def _conversation(workspace, minutes_ago: int, **fields) -> Conversation:
    return ConversationFactory(
        workspace=workspace,
        last_message_at=timezone.now() - timedelta(minutes=minutes_ago),
        **fields,
    )


# --- create / detail shape ---------------------------------------------------------------------


def test_create_conversation_returns_seed_fields(admin_client, workspace):
    response = admin_client.post(
        "/api/conversations",
        {"contact_name": "Juan Pérez", "contact_phone": "+5215511112222", "platform": "whatsapp"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    for field in (
        "contact_name",
        "contact_phone",
        "contact_email",
        "platform",
        "status",
        "priority",
        "assigned_assistant_id",
        "last_message",
        "last_message_time",
        "unread_count",
        "tags",
        "assigned_agent",
        "ai_summary",
        "ai_priority",
        "ai_tags",
    ):
        assert field in body
    assert (body["contact_name"], body["status"], body["tags"]) == ("Juan Pérez", "active", [])
    realtime = Event.objects.exclude(audience=Event.Audience.SYSTEM)
    assert realtime.get().kind == "conversation:updated"


def test_agent_created_conversation_is_assigned_to_them(agent_client, agent_user):
    response = agent_client.post(
        "/api/conversations", {"contact_name": "Ana", "platform": "sandbox"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["assigned_agent_id"] == str(agent_user.pk)


def test_create_with_foreign_integration_is_400(admin_client, outsider):
    foreign = IntegrationFactory(workspace=outsider.workspace)

    response = admin_client.post(
        "/api/conversations",
        {"contact_name": "X", "platform": "sandbox", "integration_id": str(foreign.pk)},
        format="json",
    )

    assert response.status_code == 400
    assert "integration_id" in response.json()["error"]["details"]
    assert Conversation.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"contact_name": "X"},
        {"contact_name": "X", "platform": "fax"},
        {"contact_name": "", "platform": "sandbox"},
    ],
)
def test_create_bad_input_is_400(admin_client, body):
    response = admin_client.post("/api/conversations", body, format="json")

    assert response.status_code == 400
    assert Conversation.objects.count() == 0


# --- filters, search, ordering ----------------------------------------------------------------


def test_list_is_ordered_by_last_activity(admin_client, workspace):
    old = _conversation(workspace, 30)
    new = _conversation(workspace, 1)
    middle = _conversation(workspace, 10)

    assert _ids(admin_client.get("/api/conversations")) == [
        str(new.pk),
        str(middle.pk),
        str(old.pk),
    ]


def test_filters(admin_client, admin_user, agent_user, workspace):
    vip = TagFactory(workspace=workspace, name="vip")
    mine = _conversation(
        workspace,
        1,
        status="pending",
        priority="high",
        platform="telegram",
        assigned_agent=admin_user,
    )
    mine.tags.add(vip)
    theirs = _conversation(
        workspace,
        2,
        status="active",
        priority="low",
        platform="whatsapp",
        assigned_agent=agent_user,
    )
    nobody = _conversation(workspace, 3, status="resolved", priority="urgent", platform="whatsapp")

    def ids(query):
        return _ids(admin_client.get(f"/api/conversations?{query}"))

    assert ids("status=pending") == [str(mine.pk)]
    assert ids("status=active,resolved") == [str(theirs.pk), str(nobody.pk)]
    assert ids("priority=urgent") == [str(nobody.pk)]
    assert ids("platform=whatsapp") == [str(theirs.pk), str(nobody.pk)]
    assert ids("tag=vip") == [str(mine.pk)]
    assert ids(f"tag={vip.pk}") == [str(mine.pk)]
    assert ids("assigned=me") == [str(mine.pk)]
    assert ids("assigned=none") == [str(nobody.pk)]
    assert ids(f"assigned={agent_user.pk}") == [str(theirs.pk)]


@pytest.mark.parametrize(
    "query", ["status=open", "priority=extreme", "platform=fax", "assigned=someone", "limit=abc"]
)
def test_bad_filters_are_400(admin_client, query):
    response = admin_client.get(f"/api/conversations?{query}")

    assert (
        response.status_code in (400, 404) if query == "limit=abc" else response.status_code == 400
    )


def test_search_matches_contact_fields_and_message_text(admin_client, workspace):
    juan = ConversationFactory(
        workspace=workspace,
        contact=ContactFactory(workspace=workspace, name="Juan Pérez", phone="+5215599990000"),
    )
    ana = ConversationFactory(
        workspace=workspace,
        contact=ContactFactory(workspace=workspace, name="Ana", email="ana@correo.mx"),
    )
    MessageFactory(conversation=ana, content="Quiero cambiar mi pedido de zapatos rojos")
    ConversationFactory(
        workspace=workspace, contact=ContactFactory(workspace=workspace, name="Otro")
    )

    def ids(term):
        return sorted(_ids(admin_client.get("/api/conversations", {"search": term})))

    assert ids("juan") == [str(juan.pk)]
    assert ids("Pér") == [str(juan.pk)]
    assert ids("ana@correo") == [str(ana.pk)]
    assert ids("zapatos rojos") == [str(ana.pk)]
    assert ids("pedido zap") == [str(ana.pk)]
    assert ids("inexistente") == []


def test_search_never_leaks_other_workspaces(admin_client, outsider):
    other = ConversationFactory(workspace=outsider.workspace)
    MessageFactory(conversation=other, content="secreto corporativo")

    assert _ids(admin_client.get("/api/conversations", {"search": "secreto"})) == []


# --- pagination --------------------------------------------------------------------------------


def test_cursor_pagination_is_stable_while_new_rows_arrive(admin_client, workspace):
    rows = [_conversation(workspace, minutes) for minutes in range(1, 6)]  # newest first

    first = admin_client.get("/api/conversations?limit=2").json()
    _conversation(workspace, 0)  # a brand-new conversation arrives at the top
    second = admin_client.get(first["next"]).json()

    assert [r["id"] for r in first["results"]] == [str(rows[0].pk), str(rows[1].pk)]
    assert [r["id"] for r in second["results"]] == [str(rows[2].pk), str(rows[3].pk)]


def test_messages_come_newest_page_first_and_walk_back(admin_client, workspace):
    conversation = ConversationFactory(workspace=workspace)
    start = timezone.now() - timedelta(hours=1)
    messages = [
        MessageFactory(
            conversation=conversation, content=f"m{n}", created_at=start + timedelta(minutes=n)
        )
        for n in range(5)
    ]

    page = admin_client.get(f"/api/conversations/{conversation.pk}/messages?limit=2").json()
    older = admin_client.get(page["next"]).json()

    assert [m["content"] for m in page["results"]] == ["m4", "m3"]
    assert [m["content"] for m in older["results"]] == ["m2", "m1"]
    assert page["results"][0]["id"] == str(messages[4].pk)
    assert set(page["results"][0]) >= {
        "id",
        "conversation_id",
        "content",
        "sender",
        "type",
        "status",
        "media_url",
        "metadata",
        "created_at",
    }


def test_limit_is_capped(admin_client, workspace):
    for minutes in range(3):
        _conversation(workspace, minutes)

    response = admin_client.get("/api/conversations?limit=100000")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


# --- query budgets -----------------------------------------------------------------------------


def _populate(workspace, agent, count: int) -> Conversation:
    tag = TagFactory(workspace=workspace)
    conversation = None
    for n in range(count):
        conversation = _conversation(workspace, n, assigned_agent=agent)
        conversation.tags.add(tag)
        MessageFactory(conversation=conversation)
    for _ in range(count - 1):
        MessageFactory(conversation=conversation)
    return conversation


@pytest.mark.parametrize("count", [1, 50])
def test_conversation_list_query_count_is_constant(
    admin_client, admin_user, workspace, django_assert_num_queries, count
):
    _populate(workspace, admin_user, count)

    # auth user + page of conversations (joined) + tags prefetch
    with django_assert_num_queries(3):
        response = admin_client.get("/api/conversations?limit=50")

    assert len(response.json()["results"]) == count


@pytest.mark.parametrize("count", [1, 50])
def test_message_list_query_count_is_constant(
    admin_client, admin_user, workspace, django_assert_num_queries, count
):
    conversation = _populate(workspace, admin_user, count)

    # auth user + conversation (scope) + tags prefetch + page of messages + their attachments
    with django_assert_num_queries(5):
        response = admin_client.get(f"/api/conversations/{conversation.pk}/messages?limit=50")

    assert len(response.json()["results"]) == count


# --- send / status / assign / read through the API ---------------------------------------------


def test_send_message_on_a_channel_returns_queued_then_sent(
    admin_client, workspace, django_capture_on_commit_callbacks
):
    sandbox = IntegrationFactory(workspace=workspace, platform="sandbox")
    conversation = ConversationFactory(workspace=workspace, integration=sandbox, unread_count=2)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/api/conversations/{conversation.pk}/messages",
            {"content": "Claro que sí"},
            format="json",
        )

    assert response.status_code == 201
    assert (response.json()["sender"], response.json()["status"]) == ("agent", "queued")
    message = Message.objects.get()
    assert message.status == "sent"  # the sandbox delivery task ran on commit
    conversation.refresh_from_db()
    assert (conversation.unread_count, conversation.last_message) == (0, "Claro que sí")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"content": "   "},
        {"content": "x" * 5000},
        {"content": "x", "type": "reaction"},
        {"media_url": "nope"},
    ],
)
def test_send_bad_message_is_400(admin_client, workspace, body):
    conversation = ConversationFactory(workspace=workspace)

    response = admin_client.post(
        f"/api/conversations/{conversation.pk}/messages", body, format="json"
    )

    assert response.status_code == 400
    assert Message.objects.count() == 0


def test_send_message_without_channel_is_sent_at_once(admin_client, workspace):
    conversation = ConversationFactory(workspace=workspace)

    response = admin_client.post(
        f"/api/conversations/{conversation.pk}/messages", {"content": "Hola"}, format="json"
    )

    assert response.json()["status"] == "sent"
    assert list(Event.objects.values_list("kind", flat=True)) == ["message:new"]


def test_status_endpoint_validates(admin_client, workspace):
    conversation = ConversationFactory(workspace=workspace)

    bad = admin_client.put(
        f"/api/conversations/{conversation.pk}/status", {"status": "done"}, format="json"
    )
    good = admin_client.put(
        f"/api/conversations/{conversation.pk}/status", {"status": "resolved"}, format="json"
    )

    assert bad.status_code == 400
    assert good.status_code == 200
    assert good.json()["resolved_at"] is not None


def test_assign_needs_a_target(admin_client, workspace):
    conversation = ConversationFactory(workspace=workspace)

    assert (
        admin_client.post(
            f"/api/conversations/{conversation.pk}/assign", {}, format="json"
        ).status_code
        == 400
    )


def test_assign_agent_and_unassign(admin_client, agent_user, workspace):
    conversation = ConversationFactory(workspace=workspace)
    url = f"/api/conversations/{conversation.pk}/assign"

    assigned = admin_client.post(url, {"agent_id": str(agent_user.pk)}, format="json")
    unassigned = admin_client.post(url, {"agent_id": None}, format="json")

    assert assigned.json()["assigned_agent"]["name"] == "Aldo Agent"
    assert unassigned.json()["assigned_agent_id"] is None


def test_read_clears_unread(agent_client, agent_user, workspace):
    conversation = ConversationFactory(
        workspace=workspace, assigned_agent=agent_user, unread_count=4
    )

    response = agent_client.post(f"/api/conversations/{conversation.pk}/read")

    assert response.json()["unread_count"] == 0


def test_agents_see_unassigned_queue_only_when_enabled(agent_client, workspace):
    queued = ConversationFactory(workspace=workspace)

    assert _ids(agent_client.get("/api/conversations")) == []
    workspace.settings = {"agents_see_unassigned": True}
    workspace.save()
    assert _ids(agent_client.get("/api/conversations")) == [str(queued.pk)]


# --- events catch-up ---------------------------------------------------------------------------


def test_events_return_exactly_what_was_missed(admin_client, admin_user, workspace):
    conversation = ConversationFactory(workspace=workspace)
    services.message_send_agent(
        by=admin_user, conversation=conversation, draft=services.OutboundDraft(content="1")
    )
    seen = admin_client.get("/api/events").json()["last_id"]
    services.message_send_agent(
        by=admin_user, conversation=conversation, draft=services.OutboundDraft(content="2")
    )
    services.conversation_set_status(by=admin_user, conversation=conversation, status="resolved")

    missed = admin_client.get(f"/api/events?after={seen}").json()

    assert [e["type"] for e in missed["results"]] == [
        "message:new",
        "conversation:updated",
        "conversation:activity",  # the history line "resolved"
    ]
    assert missed["results"][0]["data"]["message"]["content"] == "2"
    assert missed["results"][2]["data"]["activity"]["kind"] == "resolved"
    assert missed["has_more"] is False
    assert missed["last_id"] == missed["results"][-1]["id"]
    assert admin_client.get(f"/api/events?after={missed['last_id']}").json()["results"] == []


def test_events_are_scoped_like_conversations(
    admin_user, agent_user, other_agent, outsider, workspace, agent_client, outsider_client
):
    from conftest import api_client_for

    mine = ConversationFactory(workspace=workspace, assigned_agent=agent_user)
    theirs = ConversationFactory(workspace=workspace, assigned_agent=other_agent)
    for conversation in (mine, theirs):
        services.message_send_agent(
            by=admin_user, conversation=conversation, draft=services.OutboundDraft(content="x")
        )

    agent_events = agent_client.get("/api/events").json()["results"]
    other_events = api_client_for(other_agent).get("/api/events").json()["results"]

    assert {e["data"]["conversation_id"] for e in agent_events} == {str(mine.pk)}
    assert {e["data"]["conversation_id"] for e in other_events} == {str(theirs.pk)}
    assert outsider_client.get("/api/events").json()["results"] == []


def test_events_paginate_with_has_more(admin_client, admin_user, workspace):
    conversation = ConversationFactory(workspace=workspace)
    for n in range(3):
        services.message_send_agent(
            by=admin_user, conversation=conversation, draft=services.OutboundDraft(content=str(n))
        )

    page = admin_client.get("/api/events?limit=2").json()
    rest = admin_client.get(f"/api/events?after={page['last_id']}&limit=2").json()

    assert (len(page["results"]), page["has_more"]) == (2, True)
    assert (len(rest["results"]), rest["has_more"]) == (1, False)


@pytest.mark.parametrize("query", ["after=-1", "after=x", "limit=0", "limit=9999"])
def test_events_bad_params_are_400(admin_client, query):
    assert admin_client.get(f"/api/events?{query}").status_code == 400
