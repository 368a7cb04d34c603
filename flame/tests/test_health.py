from __future__ import annotations

from unittest import mock

import pytest
from django.db.utils import OperationalError

pytestmark = pytest.mark.django_db


def test_health_reports_everything(client, settings):
    response = client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "status",
        "timestamp",
        "version",
        "environment",
        "uptime",
        "database",
        "redis",
        "memory",
    }
    assert body["database"] == "up"
    assert body["version"] == settings.VERSION
    assert body["redis"] == ("up" if settings.REDIS_URL else "not_configured")
    assert body["status"] == "ok"
    assert body["memory"]["max_rss_mb"] > 0


def test_health_needs_no_auth_and_has_request_id(client):
    response = client.get("/health", HTTP_X_REQUEST_ID="probe-123")

    assert response.status_code == 200
    assert response["X-Request-ID"] == "probe-123"


def test_health_is_503_when_database_is_down(client):
    with mock.patch("flame.health.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/health")

    assert response.status_code == 503
    assert response.json()["database"] == "down"
    assert response.json()["status"] == "error"


def test_health_reports_redis_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get("/health")

    assert response.status_code == 200
    assert response.json()["redis"] == "down"
    assert response.json()["status"] == "degraded"


@pytest.mark.redis
def test_health_sees_real_redis(client):
    assert client.get("/health").json()["redis"] == "up"
