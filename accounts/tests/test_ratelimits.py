from __future__ import annotations

import types

import django_ratelimit.core
import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_rate_window(monkeypatch):
    """Counters live in fixed windows; a test that straddles a boundary would see a reset."""
    frozen = types.SimpleNamespace(time=lambda: 1_800_000_000.0)
    monkeypatch.setattr(django_ratelimit.core, "time", frozen)


def _login(client, email, ip="10.0.0.1"):
    return client.post(
        "/api/auth/login",
        {"email": email, "password": "wrong-wrong"},
        format="json",
        REMOTE_ADDR=ip,
    )


def test_login_is_limited_per_ip(anonymous_client, admin_user):
    statuses = [_login(anonymous_client, f"user{n}@a.example").status_code for n in range(6)]

    assert statuses == [401] * 5 + [429]
    limited = _login(anonymous_client, "someone@a.example")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    error = limited.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["details"]["retry_after"] == int(limited["Retry-After"])


def test_login_is_limited_per_email_across_ips(anonymous_client, admin_user):
    statuses = [
        _login(anonymous_client, "admin@a.example", ip=f"10.0.1.{n}").status_code for n in range(6)
    ]

    assert statuses == [401] * 5 + [429]


def test_limited_login_does_not_authenticate_even_with_right_password(anonymous_client, admin_user):
    for n in range(5):
        _login(anonymous_client, "admin@a.example", ip=f"10.0.2.{n}")

    response = anonymous_client.post(
        "/api/auth/login",
        {"email": "admin@a.example", "password": "correct-horse-battery-9"},
        format="json",
        REMOTE_ADDR="10.9.9.9",
    )

    assert response.status_code == 429
    assert "access" not in response.json()


def test_forgot_password_is_limited(anonymous_client, settings):
    statuses = [
        anonymous_client.post(
            "/api/auth/forgot-password", {"email": f"n{n}@a.example"}, format="json"
        ).status_code
        for n in range(6)
    ]

    assert statuses == [200] * 5 + [429]


def test_register_is_limited(anonymous_client, settings):
    settings.RATELIMIT_REGISTER = "2/h"

    statuses = [
        anonymous_client.post("/api/auth/register", {}, format="json").status_code for _ in range(3)
    ]

    assert statuses == [400, 400, 429]


def test_anonymous_api_calls_are_limited_per_ip(anonymous_client, settings):
    settings.RATELIMIT_ANONYMOUS = "3/15m"

    statuses = [anonymous_client.get("/api/auth/me").status_code for _ in range(4)]
    other_ip = anonymous_client.get("/api/auth/me", REMOTE_ADDR="10.7.7.7").status_code

    assert statuses == [401, 401, 401, 429]
    assert other_ip == 401


def test_authenticated_calls_are_limited_per_user(admin_client, agent_client, settings):
    settings.RATELIMIT_USER = "2/m"

    statuses = [admin_client.get("/api/auth/me").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert agent_client.get("/api/auth/me").status_code == 200
