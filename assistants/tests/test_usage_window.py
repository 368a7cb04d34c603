"""GET /api/ai/usage with dates at the edges of the calendar: a clear 400, never an overflow
(the report's end is the day after ``to``)."""

from __future__ import annotations

import pytest

from assistants.tests.factories import AIUsageFactory
from flame.tests.hostile import assert_error_shape, row_counts

pytestmark = pytest.mark.django_db

URL = "/api/ai/usage"
OUT_OF_RANGE = "Must be between 2000-01-01 and 2100-12-31."


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"to": "9999-12-31"}, ["to"]),
        ({"from": "9999-12-25", "to": "9999-12-31"}, ["from", "to"]),
        ({"from": "0001-01-01", "to": "0001-01-05"}, ["from", "to"]),
        ({"from": "1999-12-31", "to": "2000-01-05"}, ["from"]),
        ({"from": "2100-12-31", "to": "2101-01-01"}, ["to"]),
    ],
)
def test_usage_windows_outside_the_supported_years_are_a_400(admin_client, query, fields):
    before = row_counts()

    response = admin_client.get(URL, query)

    assert response.status_code == 400
    error = assert_error_shape(response)
    assert error["details"] == {field: [OUT_OF_RANGE] for field in fields}
    assert row_counts() == before


def test_usage_at_the_last_supported_day_is_answered(admin_client, workspace):
    AIUsageFactory(workspace=workspace)

    response = admin_client.get(URL, {"from": "2100-12-01", "to": "2100-12-31"})

    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"], body["totals"]["requests"]) == (
        "2100-12-01",
        "2100-12-31",
        0,
    )


def test_usage_defaults_to_thirty_days_ending_at_an_explicit_to(admin_client):
    response = admin_client.get(URL, {"to": "2000-01-10"})

    assert response.status_code == 200
    assert (response.json()["from"], response.json()["to"]) == ("1999-12-12", "2000-01-10")
