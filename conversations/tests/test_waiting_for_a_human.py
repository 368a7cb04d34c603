""" "Waiting for a human": open, and the customer's last message has no agent answer. An
assistant's reply ("someone will get back to you") does not end the wait, nor mark it read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from assistants.tests.factories import AssistantFactory
from conversations import services
from conversations.models import Conversation, Message
from conversations.services import InboundMessage, OutboundDraft, counters
from conversations.tests.factories import ConversationFactory, MessageFactory
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

HOLDING_REPLY = "Gracias por escribir, alguien del equipo te responderá pronto."


@pytest.fixture
def sandbox(workspace):
    return IntegrationFactory(workspace=workspace, platform="sandbox")


def customer_writes(sandbox, text: str, n: int = 1, customer: str = "+5215511112222") -> Message:
    inbound = InboundMessage(
        external_contact_id=customer, external_id=f"in-{customer}-{n}", content=text
    )
    return services.message_receive_inbound(integration=sandbox, inbound=inbound).message


def assistant_answers(conversation: Conversation) -> Message:
    assistant = AssistantFactory(workspace=conversation.workspace)
    return services.message_store_outbound(
        conversation=conversation,
        sender=Message.Sender.ASSISTANT,
        draft=OutboundDraft(content=HOLDING_REPLY),
        assistant=assistant,
    )


def agent_answers(agent, conversation: Conversation) -> Message:
    return services.message_send_agent(
        by=agent, conversation=conversation, draft=OutboundDraft(content="Ya lo reviso.")
    )


def listed(client, query: str = "") -> list[str]:
    response = client.get(f"/api/conversations?{query}")
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- the rule ------------------------------------------------------------------------------------


def test_an_assistant_reply_leaves_the_conversation_unread_and_waiting(admin_client, sandbox):
    question = customer_writes(sandbox, "¿Dónde está mi pedido?")

    assistant_answers(question.conversation)

    conversation = Conversation.objects.get()
    assert (conversation.unread_count, conversation.waiting_since) == (1, question.created_at)
    assert conversation.last_message_sender == "assistant"
    body = admin_client.get(f"/api/conversations/{conversation.pk}").json()
    assert (body["waiting"], body["unread_count"]) == (True, 1)
    assert listed(admin_client, "waiting=true") == [str(conversation.pk)]


def test_an_agent_reply_ends_the_wait(admin_client, admin_user, sandbox):
    question = customer_writes(sandbox, "¿Dónde está mi pedido?")
    assistant_answers(question.conversation)

    agent_answers(admin_user, question.conversation)

    conversation = Conversation.objects.get()
    assert (conversation.unread_count, conversation.waiting_since) == (0, None)
    assert listed(admin_client, "waiting=true") == []
    assert listed(admin_client, "waiting=false") == [str(conversation.pk)]


def test_the_wait_starts_at_the_first_unanswered_message(admin_user, sandbox):
    first = customer_writes(sandbox, "Hola", 1)
    agent_answers(admin_user, first.conversation)
    again = customer_writes(sandbox, "¿Sigue ahí?", 2)
    customer_writes(sandbox, "¿Hola?", 3)

    assert Conversation.objects.get().waiting_since == again.created_at


def test_a_customer_message_after_the_reply_keeps_the_wait(admin_user, sandbox):
    # Two writers at once: the agent's reply is stamped before the customer's next message,
    # but its counters land after it. The later message is still unanswered.
    question = customer_writes(sandbox, "Hola", 1)
    reply = Message.objects.create(
        conversation=question.conversation,
        workspace=question.workspace,
        sender=Message.Sender.AGENT,
        content="Dígame",
        created_at=question.created_at - timedelta(seconds=1),
    )

    counters.count_new_message(question.conversation, reply)

    assert Conversation.objects.get().waiting_since == question.created_at


def test_closing_ends_the_wait_and_a_new_message_starts_a_new_one(admin_user, sandbox):
    first = customer_writes(sandbox, "Hola", 1)
    services.conversation_set_status(
        by=admin_user, conversation=first.conversation, status="resolved"
    )
    assert Conversation.objects.get().waiting_since is None

    again = customer_writes(sandbox, "Otra pregunta", 2)

    conversation = Conversation.objects.get()
    assert (conversation.status, conversation.waiting_since) == ("active", again.created_at)


def test_a_closed_conversation_is_never_waiting(admin_client, workspace):
    archived = ConversationFactory(workspace=workspace, status="archived")
    MessageFactory(conversation=archived, sender="user")

    assert listed(admin_client, "waiting=true") == []
    assert listed(admin_client, "waiting=false") == [str(archived.pk)]


def test_waiting_follows_the_users_scope(agent_client, agent_user, other_agent, workspace):
    mine = ConversationFactory(workspace=workspace, assigned_agent=agent_user)
    MessageFactory(conversation=mine, sender="user")
    theirs = ConversationFactory(workspace=workspace, assigned_agent=other_agent)
    MessageFactory(conversation=theirs, sender="user")

    assert listed(agent_client, "waiting=true") == [str(mine.pk)]


@pytest.mark.parametrize("count", [1, 20])
def test_the_waiting_list_keeps_its_query_budget(
    admin_client, workspace, django_assert_num_queries, count
):
    for n in range(count):
        conversation = ConversationFactory(
            workspace=workspace, last_message_at=timezone.now() - timedelta(minutes=n)
        )
        MessageFactory(conversation=conversation, sender="user")

    # auth user + page of conversations (joined) + tags prefetch
    with django_assert_num_queries(3):
        response = admin_client.get("/api/conversations?waiting=true&limit=50")

    assert len(response.json()["results"]) == count


# --- the inbox: badge and tab --------------------------------------------------------------------


def test_the_inbox_badges_and_lists_what_waits_for_a_human(client, admin_user, sandbox):
    waiting = customer_writes(sandbox, "Ayuda", 1, customer="+5215500000001").conversation
    assistant_answers(waiting)
    answered = customer_writes(sandbox, "Hola", 1, customer="+5215500000002").conversation
    agent_answers(admin_user, answered)
    client.force_login(admin_user)

    all_html = client.get("/inbox/?view=all").content.decode()
    waiting_page = client.get("/inbox/?view=waiting")

    assert all_html.count('data-testid="conversation-waiting"') == 1
    assert [c.pk for c in waiting_page.context["conversations"]] == [waiting.pk]
    tabs = {tab["value"]: tab for tab in waiting_page.context["tabs"]}
    assert tabs["waiting"]["current"] is True
    boot_filters = waiting_page.context["boot"]["filters"]
    assert boot_filters == {"status": "active,pending", "waiting": "true", "snoozed": "false"}
