from __future__ import annotations

import pytest

from analytics.tests.helpers import get_report, local
from conversations.tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

WINDOW = {"from": "2026-11-10", "to": "2026-11-16"}


def _zeros(keys) -> dict:
    return dict.fromkeys(keys, 0)


STATUSES = ("active", "pending", "resolved", "archived")
PLATFORMS = ("whatsapp", "facebook", "instagram", "telegram", "sandbox")
PRIORITIES = ("low", "medium", "high", "urgent", "unanalyzed")


def _figures(*, total=0, unreplied=0, status=None, platform=None, priority=None) -> dict:
    return {
        "total": total,
        "by_status": {**_zeros(STATUSES), **(status or {})},
        "by_platform": {**_zeros(PLATFORMS), **(platform or {})},
        "by_priority": {**_zeros(PRIORITIES), **(priority or {})},
        "unreplied": unreplied,
    }


@pytest.fixture
def conversations(workspace, agent_user, other_agent, outsider):
    replied = ConversationFactory(
        workspace=workspace,
        platform="whatsapp",
        status="active",
        ai_priority="high",
        assigned_agent=agent_user,
        created_at=local("2026-11-10", 9),
    )
    MessageFactory(conversation=replied, sender="user", created_at=local("2026-11-10", 9))
    MessageFactory(conversation=replied, sender="agent", created_at=local("2026-11-10", 9, 10))
    # 23:30 in Mexico City is 05:30 UTC on the 17th: still the local 16th, inside the window.
    late_night = ConversationFactory(
        workspace=workspace,
        platform="telegram",
        status="pending",
        assigned_agent=other_agent,
        created_at=local("2026-11-16", 23, 30),
    )
    MessageFactory(
        conversation=late_night, sender="assistant", created_at=local("2026-11-16", 23, 30)
    )
    MessageFactory(conversation=late_night, sender="user", created_at=local("2026-11-16", 23, 40))
    # The local 17th: after the window, in no period.
    ConversationFactory(workspace=workspace, created_at=local("2026-11-17", 0, 30))
    # The local 9th (UTC 10th): the previous period.
    ConversationFactory(
        workspace=workspace,
        platform="sandbox",
        status="resolved",
        ai_priority="urgent",
        created_at=local("2026-11-09", 23, 30),
    )
    ConversationFactory(workspace=outsider.workspace, created_at=local("2026-11-12", 12))


def test_admin_sees_the_workspace_figures_and_the_previous_period(admin_client, conversations):
    # when
    response = get_report(admin_client, "dashboard", **WINDOW)

    # then
    assert response.status_code == 200
    assert response.json() == {
        "from": "2026-11-10",
        "to": "2026-11-16",
        **_figures(
            total=2,
            unreplied=1,
            status={"active": 1, "pending": 1},
            platform={"whatsapp": 1, "telegram": 1},
            priority={"high": 1, "unanalyzed": 1},
        ),
        "previous": {
            "from": "2026-11-03",
            "to": "2026-11-09",
            **_figures(
                total=1, status={"resolved": 1}, platform={"sandbox": 1}, priority={"urgent": 1}
            ),
        },
    }


def test_agent_sees_only_their_own_conversations(agent_client, conversations):
    response = get_report(agent_client, "dashboard", **WINDOW)

    assert response.status_code == 200
    body = response.json()
    assert {
        key: body[key] for key in ("total", "by_status", "by_platform", "by_priority", "unreplied")
    } == _figures(total=1, status={"active": 1}, platform={"whatsapp": 1}, priority={"high": 1})
    assert body["previous"]["total"] == 0


def test_outsider_sees_only_their_own_workspace(outsider_client, conversations):
    response = get_report(outsider_client, "dashboard", **WINDOW)

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    assert body["by_platform"]["sandbox"] == 1
    assert body["by_priority"]["unanalyzed"] == 1
    assert body["previous"]["total"] == 0


def test_anonymous_is_refused(anonymous_client):
    assert get_report(anonymous_client, "dashboard").status_code == 401
