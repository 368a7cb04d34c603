""" "Suggest a reply": a draft for the agent from the conversation and its assistant's knowledge,
metered like every AI call, never sent by itself."""

from __future__ import annotations

import pytest

from assistants import conf
from assistants import services as assistant_services
from assistants.models import AIDailyUsage, AIUsage
from assistants.tests.factories import AIAssistantFactory, KnowledgeDocumentFactory
from assistants.tests.fake_openai import Scripted
from conversations import services
from conversations.models import Message
from conversations.tests.factories import ConversationFactory, MessageFactory
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def asked(workspace, agent_user):
    """A customer asked a question on a channel whose assistant knows the opening hours."""
    assistant = AIAssistantFactory(workspace=workspace, ai_prompt="Eres la pastelería Lola.")
    KnowledgeDocumentFactory(
        assistant=assistant,
        title="Horario",
        content="Abrimos de lunes a viernes de 9:00 a 19:00 y los sábados de 10:00 a 14:00.",
    )
    assistant_services.knowledge_index_build(assistant_id=assistant.pk)
    channel = IntegrationFactory(
        workspace=workspace, platform="sandbox", default_assistant=assistant
    )
    conversation = ConversationFactory(
        workspace=workspace, integration=channel, assigned_agent=agent_user
    )
    MessageFactory(conversation=conversation, content="¿A qué hora abren los sábados?")
    return conversation


def _suggest(client, conversation):
    return client.post(f"/api/conversations/{conversation.pk}/suggest-reply")


def test_the_model_drafts_from_the_conversation_and_the_knowledge(
    agent_client, asked, openai_server, agent_user
):
    openai_server.then(Scripted(content="Los sábados abrimos de 10:00 a 14:00."))
    services.note_add(by=agent_user, conversation=asked, content="No prometer descuentos")

    response = _suggest(agent_client, asked)

    assert response.status_code == 200
    assert response.json() == {
        "text": "Los sábados abrimos de 10:00 a 14:00.",
        "source": "ai",
        "assistant_id": str(asked.integration.default_assistant_id),
    }
    sent = openai_server.chat_requests[0]
    assert "Eres la pastelería Lola." in sent.system_prompt
    assert "sábados de 10:00 a 14:00" in sent.system_prompt  # the knowledge snippet
    assert sent.messages[-1] == {"role": "user", "content": "¿A qué hora abren los sábados?"}
    assert "descuentos" not in str(sent.messages)  # private notes stay the team's
    # metered and counted, and nothing was sent to the customer
    usage = AIUsage.objects.get()
    assert (usage.purpose, usage.conversation_id, usage.succeeded) == ("suggestion", asked.pk, True)
    assert AIDailyUsage.objects.get().requests == 1
    assert list(Message.objects.values_list("sender", flat=True)) == ["user", "agent"]


def test_the_local_provider_suggests_the_best_knowledge(agent_client, asked, settings):
    settings.KNOWLEDGE_MATCH_THRESHOLD = 0.1  # the portable (SQLite) scores are lower

    response = _suggest(agent_client, asked)

    assert response.json()["source"] == "knowledge"
    assert "sábados de 10:00 a 14:00" in response.json()["text"]
    assert AIUsage.objects.get().purpose == "suggestion"


def test_without_anything_to_go_on_there_is_no_suggestion(agent_client, workspace, agent_user):
    conversation = ConversationFactory(workspace=workspace, assigned_agent=agent_user)
    MessageFactory(conversation=conversation, content="zzz")

    response = _suggest(agent_client, conversation)

    assert response.json() == {"text": "", "source": "none", "assistant_id": None}


def test_no_suggestion_before_the_customer_writes(agent_client, workspace, agent_user):
    conversation = ConversationFactory(workspace=workspace, assigned_agent=agent_user)

    response = _suggest(agent_client, conversation)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "nothing_to_answer"
    assert not AIUsage.objects.exists()


def test_an_exhausted_quota_is_a_429_and_calls_nothing(
    agent_client, asked, openai_server, workspace
):
    limit = conf.plan_limits(workspace.plan)["requests"]
    AIDailyUsage.objects.create(workspace=workspace, day=_today(workspace), requests=limit)

    response = _suggest(agent_client, asked)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "ai_quota_exceeded"
    assert openai_server.chat_requests == []


def test_a_provider_failure_is_a_503_and_is_recorded(agent_client, asked, openai_server):
    openai_server.then(Scripted(status=500))

    response = _suggest(agent_client, asked)

    assert response.status_code == 503
    assert AIUsage.objects.get().succeeded is False


def test_only_who_sees_the_conversation_may_ask(outsider_client, asked, workspace, other_agent):
    from conftest import api_client_for

    assert _suggest(outsider_client, asked).status_code == 404
    assert _suggest(api_client_for(other_agent), asked).status_code == 404
    assert not AIUsage.objects.exists()


def _today(workspace):
    from django.utils import timezone

    from assistants.usage import local_day

    return local_day(workspace, timezone.now())
