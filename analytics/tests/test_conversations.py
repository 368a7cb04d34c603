from __future__ import annotations

import pytest

from analytics.tests.helpers import get_report, local
from conversations.tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def _point(date: str, new=0, resolved=0, messages_in=0, messages_out=0) -> dict:
    return {
        "date": date,
        "new": new,
        "resolved": resolved,
        "messages_in": messages_in,
        "messages_out": messages_out,
    }


@pytest.fixture
def conversations(workspace, agent_user, outsider):
    # 23:30 in Mexico City on the 16th is the 17th in UTC: it counts on the local 16th.
    late_night = ConversationFactory(workspace=workspace, created_at=local("2026-11-16", 23, 30))
    MessageFactory(conversation=late_night, sender="user", created_at=local("2026-11-16", 23, 30))
    morning = ConversationFactory(
        workspace=workspace,
        assigned_agent=agent_user,
        created_at=local("2026-11-17", 10),
        resolved_at=local("2026-11-17", 12),
    )
    MessageFactory(conversation=morning, sender="user", created_at=local("2026-11-17", 10))
    MessageFactory(conversation=morning, sender="assistant", created_at=local("2026-11-17", 10, 1))
    MessageFactory(conversation=morning, sender="agent", created_at=local("2026-11-17", 10, 5))
    # Sunday 23:30 locally, Monday in UTC: it belongs to the local week starting Monday the 9th.
    sunday = ConversationFactory(workspace=workspace, created_at=local("2026-11-15", 23, 30))
    MessageFactory(conversation=sunday, sender="user", created_at=local("2026-11-15", 23, 30))
    ConversationFactory(workspace=outsider.workspace, created_at=local("2026-11-17", 10))
    return late_night, morning, sunday


def test_daily_series_counts_in_local_days_with_empty_days(admin_client, conversations):
    # when
    response = get_report(
        admin_client, "conversations", **{"from": "2026-11-14", "to": "2026-11-17"}
    )

    # then
    assert response.status_code == 200
    assert response.json() == {
        "from": "2026-11-14",
        "to": "2026-11-17",
        "granularity": "day",
        "series": [
            _point("2026-11-14"),
            _point("2026-11-15", new=1, messages_in=1),
            _point("2026-11-16", new=1, messages_in=1),
            _point("2026-11-17", new=1, resolved=1, messages_in=1, messages_out=2),
        ],
    }


def test_weekly_series_buckets_by_local_monday(admin_client, conversations):
    response = get_report(
        admin_client,
        "conversations",
        **{"from": "2026-11-10", "to": "2026-11-17", "granularity": "week"},
    )

    assert response.status_code == 200
    assert response.json()["series"] == [
        _point("2026-11-09", new=1, messages_in=1),
        _point("2026-11-16", new=2, resolved=1, messages_in=2, messages_out=2),
    ]


def test_agent_series_counts_only_their_conversations(agent_client, conversations):
    response = get_report(
        agent_client, "conversations", **{"from": "2026-11-16", "to": "2026-11-17"}
    )

    assert response.status_code == 200
    assert response.json()["series"] == [
        _point("2026-11-16"),
        _point("2026-11-17", new=1, resolved=1, messages_in=1, messages_out=2),
    ]


def test_outsider_series_counts_only_their_workspace(outsider_client, conversations):
    response = get_report(
        outsider_client, "conversations", **{"from": "2026-11-16", "to": "2026-11-17"}
    )

    assert response.status_code == 200
    assert response.json()["series"] == [_point("2026-11-16"), _point("2026-11-17", new=1)]
