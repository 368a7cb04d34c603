from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from analytics.tests.helpers import MEXICO_CITY, get_report, local
from assistants.tests.factories import AIUsageFactory
from conversations.tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = ("dashboard", "conversations", "response-time", "usage")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-11-17", "to": "2026-11-16"}, "from"),
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2025-11-15", "to": "2026-11-16"}, "from"),
        ({"granularity": "month"}, "granularity"),
    ],
)
def test_bad_parameters_are_refused(admin_client, endpoint, params, field):
    response = get_report(admin_client, endpoint, **params)

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == [field]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_full_366_day_range_is_accepted(admin_client, endpoint):
    response = get_report(admin_client, endpoint, **{"from": "2025-11-16", "to": "2026-11-16"})

    assert response.status_code == 200


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_default_window_is_the_last_seven_local_days(admin_client, endpoint):
    today = timezone.localdate(timezone=MEXICO_CITY)

    response = get_report(admin_client, endpoint)

    assert response.status_code == 200
    assert response.json()["from"] == (today - timedelta(days=6)).isoformat()
    assert response.json()["to"] == today.isoformat()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_is_refused(anonymous_client, endpoint):
    assert get_report(anonymous_client, endpoint).status_code == 401


def _populate(workspace, agent, count: int) -> None:
    for index in range(count):
        conversation = ConversationFactory(
            workspace=workspace,
            assigned_agent=agent,
            platform="whatsapp" if index % 2 else "telegram",
            created_at=local("2026-11-12", 10),
            first_response_at=local("2026-11-12", 10, 1),
            resolved_at=local("2026-11-12", 11),
        )
        MessageFactory(conversation=conversation, created_at=local("2026-11-12", 10))
        AIUsageFactory(
            workspace=workspace, conversation=conversation, created_at=local("2026-11-12", 10)
        )


# Authentication (the user, with its workspace joined for the plan check), then the report's
# own queries.
REQUEST_QUERIES = 1
REPORT_QUERIES = {
    "dashboard": 1,
    "conversations": 3,
    # Overall, by agent and by channel in SQL on PostgreSQL; one bounded list on SQLite.
    "response-time": 3 if connection.vendor == "postgresql" else 1,
    "usage": 3,
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("count", [1, 20])
def test_query_count_does_not_grow_with_rows(
    admin_client, workspace, agent_user, django_assert_num_queries, endpoint, count
):
    # given
    _populate(workspace, agent_user, count)
    params = {"from": "2026-11-10", "to": "2026-11-16", "granularity": "week"}

    # when / then
    with django_assert_num_queries(REQUEST_QUERIES + REPORT_QUERIES[endpoint]):
        response = get_report(admin_client, endpoint, **params)
    assert response.status_code == 200


@pytest.mark.parametrize("count", [1, 20])
def test_agent_query_count_does_not_grow_with_rows(
    agent_client, workspace, agent_user, django_assert_max_num_queries, count
):
    _populate(workspace, agent_user, count)

    for endpoint in ENDPOINTS:
        with django_assert_max_num_queries(REQUEST_QUERIES + REPORT_QUERIES[endpoint]):
            assert get_report(agent_client, endpoint).status_code == 200
