from __future__ import annotations

import types

import django_ratelimit.core
import pytest
from rest_framework.test import APIClient

from accounts.services import tokens_for
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

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


def _sign_in(client, email, ip="10.0.0.1"):
    return client.post(
        "/api/auth/login",
        {"email": email, "password": DEFAULT_PASSWORD},
        format="json",
        REMOTE_ADDR=ip,
    )


def test_login_failures_are_limited_per_ip(anonymous_client, admin_user, settings):
    settings.RATELIMIT_LOGIN_IP = "5/m"

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


def test_successful_sign_ins_from_one_office_never_lock_out_a_colleague(workspace):
    # given: six colleagues behind one office address
    colleagues = [UserFactory(workspace=workspace, email=f"c{n}@a.example") for n in range(6)]
    client = APIClient()

    # when
    statuses = [_sign_in(client, colleague.email).status_code for colleague in colleagues]

    # then
    assert statuses == [200] * 6


def test_one_persons_typos_do_not_block_the_office(anonymous_client, workspace, admin_user):
    colleague = UserFactory(workspace=workspace, email="colleague@a.example")
    typos = [_login(anonymous_client, "admin@a.example").status_code for _ in range(6)]

    response = _sign_in(anonymous_client, colleague.email)

    assert typos == [401] * 5 + [429]
    assert response.status_code == 200


def test_the_page_and_the_api_share_the_failure_count(client, admin_user):
    for _ in range(3):
        _login(APIClient(), "admin@a.example", ip="127.0.0.1")

    pages = [
        client.post("/login/", {"email": "admin@a.example", "password": "nope"}).status_code
        for _ in range(3)
    ]

    assert pages == [400, 400, 429]


def test_a_bogus_bearer_is_still_counted_as_anonymous(anonymous_client, settings):
    settings.RATELIMIT_ANONYMOUS = "3/15m"
    anonymous_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    statuses = [anonymous_client.get("/api/auth/me").status_code for _ in range(4)]

    assert statuses == [401, 401, 401, 429]


def test_a_valid_bearer_is_not_counted_as_anonymous(admin_user, settings):
    settings.RATELIMIT_ANONYMOUS = "3/15m"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for(admin_user)['access']}")

    statuses = [client.get("/api/auth/me").status_code for _ in range(5)]

    assert statuses == [200] * 5


@pytest.mark.parametrize("header", ["HTTP_X_REAL_IP", "HTTP_X_FORWARDED_FOR"])
def test_forwarding_headers_from_a_direct_client_are_ignored(anonymous_client, settings, header):
    # given: no proxy configured; the client invents a new address for every request
    settings.RATELIMIT_ANONYMOUS = "3/15m"

    # when
    statuses = [
        anonymous_client.get("/api/auth/me", **{header: f"203.0.113.{n}"}).status_code
        for n in range(4)
    ]

    # then: all counted against its real address
    assert statuses == [401, 401, 401, 429]


def test_the_client_address_comes_from_a_trusted_proxy(anonymous_client, settings):
    settings.RATELIMIT_ANONYMOUS = "2/15m"
    settings.TRUSTED_PROXIES = ["172.16.0.0/12"]

    def call(forwarded):
        return anonymous_client.get(
            "/api/auth/me", REMOTE_ADDR="172.18.0.5", HTTP_X_FORWARDED_FOR=forwarded
        ).status_code

    # A spoofed left-most entry is the client's own claim; nginx appended the real peer.
    first_client = [call(f"198.51.100.{n}, 203.0.113.7") for n in range(3)]
    second_client = call("203.0.113.8")

    assert first_client == [401, 401, 429]
    assert second_client == 401
