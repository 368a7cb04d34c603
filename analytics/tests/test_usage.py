from __future__ import annotations

import pytest

from analytics.tests.helpers import get_report, local
from assistants.tests.factories import AIUsageFactory
from conversations.tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db

WINDOW = {"from": "2026-11-15", "to": "2026-11-16"}


def _metrics(requests, prompt_tokens, completion_tokens, cost) -> dict:
    return {
        "requests": requests,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "cost": cost,
    }


@pytest.fixture
def usage(workspace, agent_user, other_agent, outsider):
    mine = ConversationFactory(workspace=workspace, assigned_agent=agent_user)
    theirs = ConversationFactory(workspace=workspace, assigned_agent=other_agent)
    # 23:30 local on the 16th (UTC 17th): the local 16th.
    AIUsageFactory(
        workspace=workspace,
        conversation=mine,
        purpose="reply",
        prompt_tokens=100,
        completion_tokens=20,
        cost="0.000027",
        created_at=local("2026-11-16", 23, 30),
    )
    AIUsageFactory(
        workspace=workspace,
        conversation=theirs,
        purpose="analysis",
        prompt_tokens=200,
        completion_tokens=50,
        cost="0.000100",
        created_at=local("2026-11-16", 10),
    )
    AIUsageFactory(
        workspace=workspace,
        purpose="playground",
        prompt_tokens=10,
        completion_tokens=5,
        cost="0.000010",
        created_at=local("2026-11-15", 12),
    )
    AIUsageFactory(workspace=workspace, conversation=mine, created_at=local("2026-11-17", 0, 30))
    AIUsageFactory(workspace=outsider.workspace, created_at=local("2026-11-16", 12))


def test_admin_gets_totals_by_local_day_and_by_purpose(admin_client, usage):
    # when
    response = get_report(admin_client, "usage", **WINDOW)

    # then
    assert response.status_code == 200
    assert response.json() == {
        "from": "2026-11-15",
        "to": "2026-11-16",
        "totals": _metrics(3, 310, 75, "0.000137"),
        "by_day": [
            {"date": "2026-11-15", **_metrics(1, 10, 5, "0.000010")},
            {"date": "2026-11-16", **_metrics(2, 300, 70, "0.000127")},
        ],
        "by_purpose": [
            {"purpose": "analysis", **_metrics(1, 200, 50, "0.000100")},
            {"purpose": "playground", **_metrics(1, 10, 5, "0.000010")},
            {"purpose": "reply", **_metrics(1, 100, 20, "0.000027")},
        ],
    }


def test_agent_gets_only_the_usage_of_their_conversations(agent_client, usage):
    response = get_report(agent_client, "usage", **WINDOW)

    assert response.status_code == 200
    body = response.json()
    assert body["totals"] == _metrics(1, 100, 20, "0.000027")
    assert body["by_day"] == [{"date": "2026-11-16", **_metrics(1, 100, 20, "0.000027")}]
    assert body["by_purpose"] == [{"purpose": "reply", **_metrics(1, 100, 20, "0.000027")}]


def test_outsider_gets_only_their_workspace(outsider_client, usage):
    response = get_report(outsider_client, "usage", **WINDOW)

    assert response.status_code == 200
    assert response.json()["totals"] == _metrics(1, 100, 20, "0.000027")


def test_empty_window_has_zero_totals(admin_client, usage):
    response = get_report(admin_client, "usage", **{"from": "2026-01-01", "to": "2026-01-02"})

    assert response.status_code == 200
    assert response.json()["totals"] == _metrics(0, 0, 0, "0.000000")
    assert response.json()["by_day"] == []
