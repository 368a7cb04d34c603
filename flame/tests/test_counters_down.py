"""Redis down (the cache holding the rate-limit counters): sign-in answers 503 with a
Retry-After and changes nothing, never 500; the capacity throttles let the product keep serving.
The real Redis client runs against a port where nothing listens."""

from __future__ import annotations

import socket

import pytest

from accounts.models import AuditEntry

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "flame.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    settings.RATELIMIT_ENABLE = True


def test_sign_in_is_503_and_records_nothing(redis_down, anonymous_client, client, admin_user):
    before = AuditEntry.objects.count()

    api = anonymous_client.post(
        "/api/auth/login",
        {"email": "admin@a.example", "password": "not-checked-yet"},
        format="json",
    )
    page = client.post("/login/", {"email": "admin@a.example", "password": "x"})

    assert api.status_code == 503
    assert api["Retry-After"] == "5"
    assert api.json()["error"]["code"] == "temporarily_unavailable"
    assert page.status_code == 503
    assert "briefly unavailable" in page.content.decode()
    assert AuditEntry.objects.count() == before


def test_signed_in_calls_and_anonymous_ones_are_still_served(
    redis_down, admin_client, anonymous_client
):
    listed = admin_client.get("/api/conversations")
    anonymous = anonymous_client.get("/api/conversations")

    assert listed.status_code == 200
    assert anonymous.status_code == 401  # counted nowhere, refused for what it is
