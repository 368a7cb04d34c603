from __future__ import annotations

from datetime import timedelta

import pytest

from analytics.tests.helpers import get_report, local
from conversations.tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db

WINDOW = {"from": "2026-11-10", "to": "2026-11-16"}


def _stats(count=0, median=None, p90=None, average=None) -> dict:
    return {"count": count, "median": median, "p90": p90, "average": average}


def _conversation(workspace, *, agent, platform, first_response=None, resolution=None):
    created_at = local("2026-11-12", 10)
    return ConversationFactory(
        workspace=workspace,
        assigned_agent=agent,
        platform=platform,
        created_at=created_at,
        first_response_at=first_response and created_at + timedelta(seconds=first_response),
        resolved_at=resolution and created_at + timedelta(seconds=resolution),
    )


@pytest.fixture
def conversations(workspace, agent_user, other_agent, outsider):
    _conversation(
        workspace, agent=agent_user, platform="whatsapp", first_response=60, resolution=3600
    )
    _conversation(workspace, agent=agent_user, platform="whatsapp", first_response=120)
    _conversation(
        workspace, agent=other_agent, platform="telegram", first_response=300, resolution=7200
    )
    _conversation(workspace, agent=None, platform="telegram")
    _conversation(outsider.workspace, agent=None, platform="telegram", first_response=5)
    # Outside the window: ignored.
    ConversationFactory(
        workspace=workspace,
        created_at=local("2026-11-17", 0, 30),
        first_response_at=local("2026-11-17", 5),
    )


def test_admin_gets_median_p90_and_average_overall_by_agent_and_by_channel(
    admin_client, conversations, agent_user, other_agent
):
    # when
    response = get_report(admin_client, "response-time", **WINDOW)

    # then: first responses 60, 120, 300 s; resolutions 3600, 7200 s (linear interpolation).
    assert response.status_code == 200
    assert response.json() == {
        "from": "2026-11-10",
        "to": "2026-11-16",
        "overall": {
            "first_response": _stats(3, 120.0, 264.0, 160.0),
            "resolution": _stats(2, 5400.0, 6840.0, 5400.0),
        },
        "by_agent": [
            {
                "agent_id": str(agent_user.pk),
                "agent_name": "Aldo Agent",
                "first_response": _stats(2, 90.0, 114.0, 90.0),
                "resolution": _stats(1, 3600.0, 3600.0, 3600.0),
            },
            {
                "agent_id": str(other_agent.pk),
                "agent_name": "Olga Agent",
                "first_response": _stats(1, 300.0, 300.0, 300.0),
                "resolution": _stats(1, 7200.0, 7200.0, 7200.0),
            },
        ],
        "by_channel": [
            {
                "platform": "telegram",
                "first_response": _stats(1, 300.0, 300.0, 300.0),
                "resolution": _stats(1, 7200.0, 7200.0, 7200.0),
            },
            {
                "platform": "whatsapp",
                "first_response": _stats(2, 90.0, 114.0, 90.0),
                "resolution": _stats(1, 3600.0, 3600.0, 3600.0),
            },
        ],
    }


def test_agent_gets_only_their_own_times(agent_client, conversations, agent_user):
    response = get_report(agent_client, "response-time", **WINDOW)

    assert response.status_code == 200
    body = response.json()
    assert body["overall"] == {
        "first_response": _stats(2, 90.0, 114.0, 90.0),
        "resolution": _stats(1, 3600.0, 3600.0, 3600.0),
    }
    assert [row["agent_id"] for row in body["by_agent"]] == [str(agent_user.pk)]
    assert [row["platform"] for row in body["by_channel"]] == ["whatsapp"]


def test_outsider_gets_only_their_workspace(outsider_client, conversations):
    response = get_report(outsider_client, "response-time", **WINDOW)

    assert response.status_code == 200
    body = response.json()
    assert body["overall"] == {"first_response": _stats(1, 5.0, 5.0, 5.0), "resolution": _stats()}
    assert body["by_agent"] == []


def test_empty_window_has_no_figures(admin_client, conversations):
    response = get_report(
        admin_client, "response-time", **{"from": "2026-01-01", "to": "2026-01-07"}
    )

    assert response.status_code == 200
    assert response.json()["overall"] == {"first_response": _stats(), "resolution": _stats()}
    assert response.json()["by_channel"] == []
