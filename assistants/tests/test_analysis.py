"""Conversation analysis: debounce, the last 30 messages, validation, storage and the event."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from assistants.analysis import conversation_analyze
from assistants.models import AIUsage, ConversationAnalysis
from assistants.tests.fake_openai import Scripted
from conversations.models import Conversation, Event
from conversations.services import (
    InboundMessage,
    OutboundDraft,
)
from conversations.services import conversation_update as update
from conversations.services import message_send_agent as send_agent
from conversations.tests.factories import ConversationFactory
from integrations.inbound import customer_message_receive as message_receive_inbound
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

GOOD = {"summary": "Cliente pregunta por envíos", "priority": "low", "tags": ["Envíos", "pedido"]}


@pytest.fixture
def channel(workspace):
    return IntegrationFactory(workspace=workspace, platform="telegram")


def receive(channel, text, n=1):
    inbound = InboundMessage(external_contact_id="42", external_id=f"m{n}", content=text)
    return message_receive_inbound(integration=channel, inbound=inbound).message


def quiet_after(message):
    return message.created_at + timedelta(seconds=11)


def test_analysis_waits_for_ten_quiet_seconds(channel):
    message = receive(channel, "Hola")

    outcome = conversation_analyze(
        conversation_id=message.conversation_id, now=message.created_at + timedelta(seconds=4)
    )

    assert (outcome.status, outcome.retry_in) == ("wait", 6.0)
    assert Conversation.objects.get().ai_analyzed_at is None


def test_analysis_is_stored_and_pushed(channel, openai_server, agent_user):
    openai_server.then(Scripted(content=json.dumps(GOOD)))
    message = receive(channel, "¿Hacen envíos?")
    Conversation.objects.update(assigned_agent=agent_user)
    now = quiet_after(message)

    outcome = conversation_analyze(conversation_id=message.conversation_id, now=now)

    assert outcome.status == "analyzed"
    conversation = Conversation.objects.get()
    assert (conversation.ai_summary, conversation.ai_priority, conversation.ai_tags) == (
        "Cliente pregunta por envíos",
        "low",
        ["envíos", "pedido"],
    )
    assert conversation.ai_analyzed_at == now
    event = Event.objects.get(kind="conversation:ai:update")
    assert event.payload == {
        "conversation_id": str(conversation.pk),
        "ai_summary": "Cliente pregunta por envíos",
        "ai_priority": "low",
        "ai_tags": ["envíos", "pedido"],
        "ai_analyzed_at": now.isoformat(),
    }
    assert (event.conversation_id, event.assigned_agent_id) == (conversation.pk, agent_user.pk)
    usage = AIUsage.objects.get()
    assert (usage.purpose, usage.conversation_id, usage.prompt_tokens) == (
        "analysis",
        conversation.pk,
        42,
    )


def test_only_the_last_thirty_messages_are_sent(channel, openai_server):
    openai_server.then(Scripted(content=json.dumps(GOOD)))
    messages = [receive(channel, f"mensaje {n}", n) for n in range(35)]

    conversation_analyze(conversation_id=messages[0].conversation_id, now=quiet_after(messages[-1]))

    lines = openai_server.chat_requests[0].messages[1]["content"].splitlines()
    assert len(lines) == 30
    assert (lines[0], lines[-1]) == ("Customer: mensaje 5", "Customer: mensaje 34")


@pytest.mark.parametrize(
    "content",
    [
        "Esto no es JSON",
        json.dumps(["summary", "priority"]),
        json.dumps({**GOOD, "priority": "critical"}),
        json.dumps({"priority": "low", "tags": []}),
        json.dumps({**GOOD, "summary": "   "}),
        json.dumps({**GOOD, "tags": "envíos"}),
        json.dumps({**GOOD, "tags": [1, 2]}),
    ],
)
def test_invalid_answers_change_nothing_and_are_logged(channel, openai_server, caplog, content):
    openai_server.then(Scripted(content=content))
    message = receive(channel, "Hola")

    with caplog.at_level(logging.WARNING, logger="assistants.analysis"):
        outcome = conversation_analyze(
            conversation_id=message.conversation_id, now=quiet_after(message)
        )

    assert outcome.status == "invalid"
    conversation = Conversation.objects.get()
    assert (conversation.ai_summary, conversation.ai_priority, conversation.ai_tags) == ("", "", [])
    assert conversation.ai_analyzed_at is None
    assert not Event.objects.filter(kind="conversation:ai:update").exists()
    assert "Analysis answer rejected" in caplog.text
    state = ConversationAnalysis.objects.get()
    assert (state.claim_token, state.analyzed_through) == (None, None)
    assert state.last_error.startswith("invalid: ")


def test_long_summary_is_cut_and_code_fences_are_accepted(channel, openai_server):
    long = {**GOOD, "summary": "x" * 250, "tags": [f"t{n}" for n in range(12)]}
    openai_server.then(Scripted(content=f"```json\n{json.dumps(long)}\n```"))
    message = receive(channel, "Hola")

    conversation_analyze(conversation_id=message.conversation_id, now=quiet_after(message))

    conversation = Conversation.objects.get()
    assert len(conversation.ai_summary) == 200
    assert conversation.ai_summary.endswith("…")
    assert conversation.ai_tags == [f"t{n}" for n in range(10)]


def test_nothing_new_means_no_second_call(channel, openai_server):
    openai_server.then(Scripted(content=json.dumps(GOOD)))
    message = receive(channel, "Hola")
    now = quiet_after(message)
    conversation_analyze(conversation_id=message.conversation_id, now=now)

    again = conversation_analyze(conversation_id=message.conversation_id, now=now)

    assert again.status == "up_to_date"
    assert len(openai_server.chat_requests) == 1


def test_a_new_message_is_analysed_again(channel, openai_server):
    openai_server.then(
        Scripted(content=json.dumps(GOOD)),
        Scripted(content=json.dumps({**GOOD, "priority": "urgent"})),
    )
    first = receive(channel, "Hola", 1)
    conversation_analyze(conversation_id=first.conversation_id, now=quiet_after(first))
    second = receive(channel, "¡Es urgente!", 2)

    outcome = conversation_analyze(conversation_id=second.conversation_id, now=quiet_after(second))

    assert outcome.status == "analyzed"
    assert Conversation.objects.get().ai_priority == "urgent"


def test_a_conversation_being_analysed_is_not_analysed_twice(channel, openai_server):
    message = receive(channel, "Hola")
    now = quiet_after(message)
    ConversationAnalysis.objects.filter(conversation_id=message.conversation_id).update(
        claim_token="00000000-0000-0000-0000-000000000001",
        claimed_until=now + timedelta(minutes=1),
    )

    outcome = conversation_analyze(conversation_id=message.conversation_id, now=now)

    assert (outcome.status, outcome.retry_in) == ("busy", 10.0)
    assert openai_server.chat_requests == []


def test_llm_failure_changes_nothing(channel, openai_server):
    openai_server.then(Scripted(status=500))
    message = receive(channel, "Hola")

    outcome = conversation_analyze(
        conversation_id=message.conversation_id, now=quiet_after(message)
    )

    assert outcome.status == "failed"
    assert Conversation.objects.get().ai_analyzed_at is None
    assert AIUsage.objects.get().error_code == "server_error"
    assert ConversationAnalysis.objects.get().last_error == "server_error"


def test_workspace_can_switch_analysis_off(channel, workspace, openai_server):
    workspace.settings = {"ai_analysis": False}
    workspace.save()
    message = receive(channel, "Hola")

    outcome = conversation_analyze(
        conversation_id=message.conversation_id, now=quiet_after(message)
    )

    assert outcome.status == "disabled"
    assert openai_server.chat_requests == []


def test_local_heuristics_analyse_offline(channel):
    message = receive(channel, "URGENTE: mi pedido llegó roto, quiero reembolso")

    outcome = conversation_analyze(
        conversation_id=message.conversation_id, now=quiet_after(message)
    )

    assert outcome.status == "analyzed"
    conversation = Conversation.objects.get()
    assert (conversation.ai_priority, conversation.ai_tags) == (
        "urgent",
        ["order", "complaint", "refund"],
    )
    assert conversation.ai_summary == "URGENTE: mi pedido llegó roto, quiero reembolso"


# --- what agents see and say -------------------------------------------------------------------


def test_an_agents_reply_is_part_of_the_next_analysis(
    channel, openai_server, admin_client, django_capture_on_commit_callbacks
):
    openai_server.then(
        Scripted(content=json.dumps({**GOOD, "priority": "high"})),
        Scripted(content=json.dumps({**GOOD, "summary": "Resuelto por el agente"})),
    )
    message = receive(channel, "¿Ya salió mi pedido?")
    conversation_analyze(conversation_id=message.conversation_id, now=quiet_after(message))

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/api/conversations/{message.conversation_id}/messages",
            {"content": "Sí, salió ayer y llega mañana."},
            format="json",
        )

    assert response.status_code == 201
    transcript = openai_server.chat_requests[1].messages[1]["content"].splitlines()
    assert transcript == ["Customer: ¿Ya salió mi pedido?", "Agent: Sí, salió ayer y llega mañana."]
    assert Conversation.objects.get().ai_summary == "Resuelto por el agente"


def test_quiet_is_measured_from_the_last_message_of_anyone(channel, admin_user):
    message = receive(channel, "Hola")
    a_minute_ago = message.created_at - timedelta(minutes=1)
    Conversation.objects.update(last_customer_message_at=a_minute_ago, last_message_at=a_minute_ago)
    reply = send_agent(
        by=admin_user,
        conversation=message.conversation,
        draft=OutboundDraft(content="¿En qué le ayudo?"),
    )

    outcome = conversation_analyze(
        conversation_id=message.conversation_id, now=reply.created_at + timedelta(seconds=4)
    )

    assert (outcome.status, outcome.retry_in) == ("wait", 6.0)


def test_nothing_to_analyse_before_the_customer_writes(workspace, admin_user):
    conversation = ConversationFactory(workspace=workspace)
    send_agent(by=admin_user, conversation=conversation, draft=OutboundDraft(content="Hola"))

    outcome = conversation_analyze(conversation_id=conversation.pk, wait=False)

    assert outcome.status == "no_customer_message"
    assert AIUsage.objects.count() == 0


def test_the_analysis_sets_priority_and_tags_an_agent_has_not_set(channel, openai_server):
    openai_server.then(Scripted(content=json.dumps({**GOOD, "priority": "urgent"})))
    message = receive(channel, "¡Urgente!")

    conversation_analyze(conversation_id=message.conversation_id, now=quiet_after(message))

    conversation = Conversation.objects.get()
    assert (conversation.priority, conversation.priority_set_by_agent) == ("urgent", False)
    assert sorted(tag.name for tag in conversation.tags.all()) == ["envíos", "pedido"]


def test_the_analysis_leaves_what_an_agent_set(channel, openai_server, admin_user):
    openai_server.then(Scripted(content=json.dumps({**GOOD, "priority": "urgent"})))
    message = receive(channel, "¡Urgente!")
    update(by=admin_user, conversation=message.conversation, priority="low", tags=["vip"])

    conversation_analyze(conversation_id=message.conversation_id, now=quiet_after(message))

    conversation = Conversation.objects.get()
    assert (conversation.priority, conversation.ai_priority) == ("low", "urgent")
    assert [tag.name for tag in conversation.tags.all()] == ["vip"]
    assert conversation.ai_tags == ["envíos", "pedido"]
