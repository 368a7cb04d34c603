from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.tests.helpers import get_report, local
from assistants.tests.factories import AIUsageFactory, AssistantFactory
from conversations.models import Conversation, Message
from conversations.tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

WINDOW = {"from": "2026-11-15", "to": "2026-11-16"}
IN_WINDOW = local("2026-11-16", 10)


def _conversation(workspace, assistant, *, senders=(), resolved=False, agent=None, at=IN_WINDOW):
    conversation = ConversationFactory(
        workspace=workspace,
        assigned_assistant=assistant,
        assigned_agent=agent,
        status=Conversation.Status.RESOLVED if resolved else Conversation.Status.ACTIVE,
        resolved_at=at if resolved else None,
        created_at=at,
    )
    for sender in senders:
        MessageFactory(
            conversation=conversation,
            sender=sender,
            assistant=assistant if sender == Message.Sender.ASSISTANT else None,
            created_at=at,
        )
    return conversation


@pytest.fixture
def assistants(workspace, agent_user, outsider):
    bot = AssistantFactory(workspace=workspace, name="Bot")
    idle = AssistantFactory(workspace=workspace, name="Idle")
    user, assistant, agent = Message.Sender.USER, Message.Sender.ASSISTANT, Message.Sender.AGENT
    # Automated: resolved, the assistant replied, no agent did.
    _conversation(workspace, bot, senders=(user, assistant), resolved=True)
    # Handed off by an agent reply, then resolved.
    _conversation(workspace, bot, senders=(user, assistant, agent), resolved=True)
    # Handed off by assignment, still open.
    _conversation(workspace, bot, senders=(user,), agent=agent_user)
    # Created before the window: not handled in it.
    _conversation(workspace, bot, senders=(user, assistant), at=local("2026-11-14", 12))
    AIUsageFactory(
        workspace=workspace,
        assistant=bot,
        prompt_tokens=100,
        completion_tokens=20,
        cost="0.000027",
        created_at=IN_WINDOW,
    )
    AIUsageFactory(
        workspace=workspace,
        assistant=bot,
        prompt_tokens=200,
        completion_tokens=50,
        cost="0.000100",
        created_at=local("2026-11-15", 9),
    )
    AIUsageFactory(workspace=workspace, assistant=bot, created_at=local("2026-11-17", 1))
    foreign = AssistantFactory(workspace=outsider.workspace, name="Foreign")
    _conversation(outsider.workspace, foreign, senders=(user, assistant), resolved=True)
    return bot, idle


def test_admin_gets_figures_per_assistant(admin_client, assistants):
    bot, idle = assistants

    response = get_report(admin_client, "assistants", **WINDOW)

    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"]) == ("2026-11-15", "2026-11-16")
    assert body["assistants"] == [
        {
            "assistant_id": str(bot.pk),
            "assistant_name": "Bot",
            "type": bot.type,
            "status": bot.status,
            "conversations_handled": 3,
            "resolved": 2,
            "messages_sent": 2,
            "automation_rate": 0.5,
            "handoff_rate": 0.6667,
            "ai_tokens": 370,
            "ai_cost": "0.000127",
        },
        {
            "assistant_id": str(idle.pk),
            "assistant_name": "Idle",
            "type": idle.type,
            "status": idle.status,
            "conversations_handled": 0,
            "resolved": 0,
            "messages_sent": 0,
            "automation_rate": None,
            "handoff_rate": None,
            "ai_tokens": 0,
            "ai_cost": "0.000000",
        },
    ]


def test_agent_sees_only_the_figures_of_their_conversations(agent_client, assistants):
    response = get_report(agent_client, "assistants", **WINDOW)

    assert response.status_code == 200
    bot = response.json()["assistants"][0]
    # Only the conversation assigned to them; AI usage without a conversation is not theirs.
    assert bot["conversations_handled"] == 1
    assert bot["messages_sent"] == 0
    assert bot["handoff_rate"] == 1.0
    assert bot["ai_tokens"] == 0


def test_outsider_sees_only_their_workspace_assistants(outsider_client, assistants):
    response = get_report(outsider_client, "assistants", **WINDOW)

    assert response.status_code == 200
    rows = response.json()["assistants"]
    assert [row["assistant_name"] for row in rows] == ["Foreign"]
    assert rows[0]["conversations_handled"] == 1
    assert rows[0]["automation_rate"] == 1.0


def test_anonymous_is_refused(anonymous_client):
    assert get_report(anonymous_client, "assistants").status_code == 401


def test_bad_parameters_are_refused(admin_client):
    response = get_report(admin_client, "assistants", **{"from": "2026-11-17", "to": "2026-11-16"})

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["from"]


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert get_report(client, "assistants", **WINDOW).status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_assistants(admin_client, workspace):
    def seed(count):
        for _ in range(count):
            assistant = AssistantFactory(workspace=workspace)
            _conversation(
                workspace,
                assistant,
                senders=(Message.Sender.USER, Message.Sender.ASSISTANT),
                resolved=True,
            )
            AIUsageFactory(workspace=workspace, assistant=assistant, created_at=IN_WINDOW)

    seed(1)
    one = _queries(admin_client)
    seed(9)
    ten = _queries(admin_client)

    assert one == ten
