"""The dashboard page shell: access, and the period it starts with (figures come from the API)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db

DASHBOARD = "/dashboard/"


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(DASHBOARD)

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/dashboard/"


@pytest.mark.parametrize("persona", ["admin_user", "agent_user"])
def test_members_get_the_dashboard(client, request, persona):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(DASHBOARD)

    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-testid="dashboard"' in content
    assert "vendor/chartjs/chart.umd.min.js" in content
    assert 'type="module" src="/static/js/dashboard/dashboard.js"' in content
    assert "<script>" not in content  # no inline scripts under the CSP
    assert response.context["nav"] == "dashboard"
    assert response.context["is_admin"] is (persona == "admin_user")


def test_the_default_period_is_the_last_30_local_days(client, agent_user, monkeypatch):
    # given: 03:00 UTC on 1 March is still 28 February in Mexico City
    moment = datetime(2027, 3, 1, 3, 0, tzinfo=ZoneInfo("UTC"))
    monkeypatch.setattr(timezone, "now", lambda: moment)
    client.force_login(agent_user)

    # when
    response = client.get(DASHBOARD)

    # then
    context = response.context
    assert (context["period_from"], context["period_to"], context["today"]) == (
        "2027-01-30",
        "2027-02-28",
        "2027-02-28",
    )
    assert context["granularity"] == "day"
    assert 'href="/api/analytics/export.csv?from=2027-01-30&amp;to=2027-02-28"' in (
        response.content.decode()
    )


def test_the_period_in_the_address_is_kept(client, admin_user):
    client.force_login(admin_user)

    response = client.get(
        DASHBOARD, {"from": "2026-01-01", "to": "2026-03-31", "granularity": "week"}
    )

    context = response.context
    assert (context["period_from"], context["period_to"], context["granularity"]) == (
        "2026-01-01",
        "2026-03-31",
        "week",
    )


@pytest.fixture
def on_31_may_2026(monkeypatch):
    # Noon in Mexico City, the workspace's zone.
    moment = datetime(2026, 5, 31, 18, 0, tzinfo=ZoneInfo("UTC"))
    monkeypatch.setattr(timezone, "now", lambda: moment)


def _period(response) -> tuple[str, str, str]:
    context = response.context
    return context["period_from"], context["period_to"], context["granularity"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"to": "2026-04-30"}, ("2026-04-01", "2026-04-30", "day")),
        ({"from": "2026-05-20", "granularity": "week"}, ("2026-05-20", "2026-05-31", "week")),
        # Refused by the API: the page starts with its default period instead.
        ({"from": "nonsense"}, ("2026-05-02", "2026-05-31", "day")),
        ({"from": "2026-06-10", "to": "2026-06-01"}, ("2026-05-02", "2026-05-31", "day")),
        ({"from": "2026-01-01", "granularity": "year"}, ("2026-05-02", "2026-05-31", "day")),
    ],
)
def test_the_period_is_the_one_the_api_accepts_else_the_last_30_days(
    client, agent_user, on_31_may_2026, query, expected
):
    client.force_login(agent_user)

    response = client.get(DASHBOARD, query)

    assert response.status_code == 200
    assert _period(response) == expected


def test_a_period_longer_than_the_api_allows_falls_back_to_one_it_accepts(
    client, admin_user, on_31_may_2026
):
    client.force_login(admin_user)

    response = client.get(DASHBOARD, {"from": "2020-01-01"})

    # then: the page's period is the default one, and the API answers for it
    assert response.status_code == 200
    assert _period(response) == ("2026-05-02", "2026-05-31", "day")
    api = client.get("/api/analytics/dashboard", {"from": "2026-05-02", "to": "2026-05-31"})
    assert api.status_code == 200
    refused = client.get("/api/analytics/dashboard", {"from": "2020-01-01"})
    assert refused.status_code == 400  # what the page's calls would have got


def test_an_unknown_granularity_is_a_day(client, admin_user):
    client.force_login(admin_user)

    assert client.get(DASHBOARD, {"granularity": "year"}).context["granularity"] == "day"
