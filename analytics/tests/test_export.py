from __future__ import annotations

import csv
import io

import pytest

from analytics.selectors import EXPORT_COLUMNS
from analytics.tests.helpers import local
from assistants.tests.factories import AssistantFactory
from conversations.models import Conversation, Message
from conversations.tests.factories import (
    ContactFactory,
    ConversationFactory,
    MessageFactory,
    TagFactory,
)
from satisfaction.tests.factories import RatingFactory

pytestmark = pytest.mark.django_db

URL = "/api/analytics/export.csv"
WINDOW = {"from": "2026-11-15", "to": "2026-11-16"}


def _export(client, **params):
    response = client.get(URL, params or WINDOW)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def exported(workspace, agent_user):
    bot = AssistantFactory(workspace=workspace, name="Bot")
    tricky = ContactFactory(workspace=workspace, name='Pérez, Juan "JP"')
    first = ConversationFactory(
        workspace=workspace,
        contact=tricky,
        platform="whatsapp",
        status=Conversation.Status.RESOLVED,
        assigned_agent=agent_user,
        assigned_assistant=bot,
        created_at=local("2026-11-15", 9),
        first_response_at=local("2026-11-15", 9, 5),
        resolved_at=local("2026-11-15", 10),
    )
    first.tags.add(
        TagFactory(workspace=workspace, name="vip"), TagFactory(workspace=workspace, name="billing")
    )
    MessageFactory(
        conversation=first, sender=Message.Sender.USER, created_at=local("2026-11-15", 9)
    )
    MessageFactory(
        conversation=first,
        sender=Message.Sender.ASSISTANT,
        assistant=bot,
        created_at=local("2026-11-15", 9, 5),
    )
    MessageFactory(
        conversation=first, sender=Message.Sender.AGENT, created_at=local("2026-11-15", 9, 30)
    )
    MessageFactory(
        conversation=first, sender=Message.Sender.USER, created_at=local("2026-11-15", 9, 40)
    )
    # The newest rating is the conversation's CSAT.
    RatingFactory(conversation=first, score=2, created_at=local("2026-11-15", 11))
    RatingFactory(conversation=first, score=5, created_at=local("2026-11-15", 12))
    # 23:30 local on the 16th is the 17th in UTC: still in the window.
    second = ConversationFactory(
        workspace=workspace,
        contact=ContactFactory(workspace=workspace, name="Ana"),
        created_at=local("2026-11-16", 23, 30),
    )
    MessageFactory(
        conversation=second, sender=Message.Sender.USER, created_at=local("2026-11-16", 23, 30)
    )
    # Outside the window.
    ConversationFactory(workspace=workspace, created_at=local("2026-11-17", 0, 30))
    return first, second


def test_admin_gets_one_row_per_conversation_in_the_window(admin_client, exported):
    first, second = exported

    rows = _export(admin_client)

    assert rows == [
        list(EXPORT_COLUMNS),
        [
            str(first.pk),
            "whatsapp",
            'Pérez, Juan "JP"',
            "2026-11-15T09:00:00-06:00",
            "2026-11-15T09:05:00-06:00",
            "2026-11-15T10:00:00-06:00",
            "agent@a.example",
            "Bot",
            "true",
            "2",
            "2",
            "5",
            "billing;vip",
        ],
        [
            str(second.pk),
            "sandbox",
            "Ana",
            "2026-11-16T23:30:00-06:00",
            "",
            "",
            "",
            "",
            "false",
            "1",
            "0",
            "",
            "",
        ],
    ]


def test_names_with_commas_and_quotes_are_escaped(admin_client, exported):
    response = admin_client.get(URL, WINDOW)
    body = b"".join(response.streaming_content).decode()

    assert '"Pérez, Juan ""JP"""' in body


def test_agent_gets_only_their_conversations(agent_client, exported):
    first, _second = exported

    rows = _export(agent_client)

    assert [row[0] for row in rows[1:]] == [str(first.pk)]


def test_outsider_gets_only_the_header(outsider_client, exported):
    assert _export(outsider_client) == [list(EXPORT_COLUMNS)]


def test_anonymous_is_refused(anonymous_client):
    assert anonymous_client.get(URL).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-11-17", "to": "2026-11-16"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2025-11-15", "to": "2026-11-16"}, "from"),
    ],
)
def test_bad_parameters_are_json_errors(admin_client, params, field):
    response = admin_client.get(URL, params, HTTP_ACCEPT="text/csv")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert list(response.json()["error"]["details"]) == [field]
