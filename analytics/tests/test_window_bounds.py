"""Date windows at the edges of the calendar, on every endpoint that takes one: a clear 400,
never an overflow (the day after ``to``, the period before ``from`` and week starts are
computed from them). Agents can send these too."""

from __future__ import annotations

import csv
import io

import pytest

from analytics.selectors import EXPORT_COLUMNS
from analytics.tests.helpers import local
from conversations.tests.factories import ConversationFactory
from flame.tests.hostile import assert_error_shape, row_counts

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = "Must be between 2000-01-01 and 2100-12-31."
ENDPOINTS = [
    "/api/analytics/dashboard",
    "/api/analytics/conversations",
    "/api/analytics/response-time",
    "/api/analytics/usage",
    "/api/analytics/assistants",
    "/api/analytics/satisfaction",
    "/api/analytics/export.csv",
]
EDGES = [
    ({"to": "9999-12-31"}, ["to"]),
    ({"from": "9999-12-25", "to": "9999-12-31"}, ["from", "to"]),
    ({"from": "0001-01-01", "to": "0001-01-05"}, ["from", "to"]),
    ({"from": "0001-01-01"}, ["from"]),
    ({"from": "1999-12-31", "to": "2000-01-06"}, ["from"]),
    ({"from": "2100-12-30", "to": "2101-01-01"}, ["to"]),
]


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize(("params", "fields"), EDGES)
@pytest.mark.parametrize("persona", ["admin_client", "agent_client"])
def test_windows_outside_the_supported_years_are_a_400(request, persona, url, params, fields):
    client = request.getfixturevalue(persona)
    before = row_counts()

    response = client.get(url, {**params, "granularity": "week"})

    assert response.status_code == 400
    error = assert_error_shape(response)
    assert error["code"] == "validation_error"
    assert error["details"] == {field: [OUT_OF_RANGE] for field in fields}
    assert row_counts() == before


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize(
    "params",
    [{"from": "2000-01-01", "to": "2000-01-31"}, {"from": "2100-12-01", "to": "2100-12-31"}],
)
@pytest.mark.parametrize("granularity", ["day", "week"])
def test_the_first_and_last_supported_days_are_answered(admin_client, url, params, granularity):
    response = admin_client.get(url, {**params, "granularity": granularity})

    assert response.status_code == 200
    if not response.streaming:
        body = response.json()
        assert (body["from"], body["to"]) == (params["from"], params["to"])


def test_dashboard_compares_with_the_period_before_the_first_supported_day(admin_client):
    response = admin_client.get(
        "/api/analytics/dashboard", {"from": "2000-01-01", "to": "2000-01-10"}
    )

    assert response.status_code == 200
    previous = response.json()["previous"]
    assert (previous["from"], previous["to"]) == ("1999-12-22", "1999-12-31")


def test_weekly_series_at_the_last_supported_day_starts_on_its_monday(admin_client):
    response = admin_client.get(
        "/api/analytics/conversations",
        {"from": "2100-12-29", "to": "2100-12-31", "granularity": "week"},
    )

    assert response.status_code == 200
    assert [point["date"] for point in response.json()["series"]] == ["2100-12-27"]


def test_export_at_the_edges_of_the_range_is_a_csv(admin_client, workspace):
    ConversationFactory(workspace=workspace, created_at=local("2000-01-01", 0, 30))

    response = admin_client.get(
        "/api/analytics/export.csv", {"from": "2000-01-01", "to": "2000-01-01"}
    )

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == list(EXPORT_COLUMNS)
    assert len(rows) == 2


@pytest.mark.parametrize(
    "query", [{"to": "9999-12-31"}, {"from": "0001-01-01", "to": "0001-01-05"}]
)
def test_dashboard_page_with_an_edge_window_starts_with_the_default_period(
    client, admin_user, query
):
    client.force_login(admin_user)

    response = client.get("/dashboard/", query)

    assert response.status_code == 200
    assert response.context["period_to"] != query["to"]
