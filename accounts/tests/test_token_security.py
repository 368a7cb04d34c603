"""Refresh tokens: logout verifies before it writes, and the database never holds a usable token."""

from __future__ import annotations

import base64
import importlib
import json
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.tests.factories import DEFAULT_PASSWORD
from accounts.tokens import token_digest

pytestmark = pytest.mark.django_db

WRONG_KEY = "not-the-signing-key-" + "x" * 40


def _login(client, email="admin@a.example"):
    response = client.post(
        "/api/auth/login", {"email": email, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    return response.json()


def _claims(**overrides):
    now = timezone.now()
    claims = {
        "token_type": "refresh",
        "exp": int((now + timedelta(days=1)).timestamp()),
        "iat": int(now.timestamp()),
        "jti": "f" * 32,
        "user_id": "00000000-0000-0000-0000-000000000000",
    }
    claims.update(overrides)
    return claims


def _unsigned(claims) -> str:
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _rows() -> tuple[int, int]:
    return OutstandingToken.objects.count(), BlacklistedToken.objects.count()


def _victim_jti(refresh: str) -> str:
    return jwt.decode(refresh, options={"verify_signature": False})["jti"]


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda c: jwt.encode(c, WRONG_KEY, algorithm="HS256"), id="wrong-key"),
        pytest.param(_unsigned, id="alg-none"),
    ],
)
@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({}, id="plain"),
        pytest.param({"jti": "j" * 300}, id="jti-300-chars"),
        pytest.param({"exp": 10**12}, id="exp-1e12"),
        pytest.param({"exp": 10**20}, id="exp-1e20"),
    ],
)
def test_logout_with_a_forged_token_is_401_and_writes_nothing(
    anonymous_client, admin_user, forge, claims
):
    # given
    before = _rows()

    # when
    response = anonymous_client.post(
        "/api/auth/logout", {"refresh": forge(_claims(**claims))}, format="json"
    )

    # then
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"
    assert _rows() == before


def test_forged_token_with_the_victims_jti_does_not_end_the_victims_session(
    anonymous_client, admin_user
):
    victim = _login(anonymous_client)
    forged = jwt.encode(
        _claims(jti=_victim_jti(victim["refresh"]), user_id=str(admin_user.pk)),
        WRONG_KEY,
        algorithm="HS256",
    )

    response = anonymous_client.post("/api/auth/logout", {"refresh": forged}, format="json")

    assert response.status_code == 401
    assert BlacklistedToken.objects.count() == 0
    refreshed = anonymous_client.post(
        "/api/auth/refresh", {"refresh": victim["refresh"]}, format="json"
    )
    assert refreshed.status_code == 200


def test_token_signed_with_our_key_but_never_issued_is_401(anonymous_client, admin_user):
    # A valid signature is not enough: the token must be one we handed out (jti and digest).
    minted = jwt.encode(
        _claims(user_id=str(admin_user.pk)), settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256"
    )
    before = _rows()

    response = anonymous_client.post("/api/auth/logout", {"refresh": minted}, format="json")

    assert response.status_code == 401
    assert _rows() == before


def test_logout_twice_is_idempotent(anonymous_client, admin_user):
    refresh = _login(anonymous_client)["refresh"]

    first = anonymous_client.post("/api/auth/logout", {"refresh": refresh}, format="json")
    second = anonymous_client.post("/api/auth/logout", {"refresh": refresh}, format="json")

    assert (first.status_code, second.status_code) == (200, 200)
    assert BlacklistedToken.objects.count() == 1


def test_logout_ignores_a_bearer_header(anonymous_client, admin_user):
    tokens = _login(anonymous_client)
    anonymous_client.credentials(HTTP_AUTHORIZATION="Bearer stale")

    response = anonymous_client.post(
        "/api/auth/logout", {"refresh": tokens["refresh"]}, format="json"
    )

    assert response.status_code == 200


def _browser_signed_in() -> Client:
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/login/")
    browser.post(
        "/login/",
        {
            "email": "admin@a.example",
            "password": DEFAULT_PASSWORD,
            "csrfmiddlewaretoken": page.cookies["csrftoken"].value,
        },
    )
    assert browser.get("/inbox/").status_code == 200
    return browser


def test_cross_site_logout_with_a_session_cookie_is_403_and_keeps_the_session(admin_user):
    # given: a signed-in browser, and a refresh token the attacking page somehow has
    browser = _browser_signed_in()
    refresh = _login(Client())["refresh"]

    # when: a form POST from another site (the cookie rides along, no CSRF token)
    response = browser.post("/api/auth/logout", {"refresh": refresh})

    # then
    assert response.status_code == 403
    assert browser.get("/inbox/").status_code == 200
    assert BlacklistedToken.objects.count() == 0


def test_same_site_logout_with_csrf_ends_the_session(admin_user):
    browser = _browser_signed_in()
    refresh = _login(Client())["refresh"]

    response = browser.post(
        "/api/auth/logout",
        {"refresh": refresh},
        HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value,
    )

    assert response.status_code == 200
    assert browser.get("/inbox/").status_code == 302


def test_refresh_tokens_are_stored_as_digests(anonymous_client, admin_user):
    refresh = _login(anonymous_client)["refresh"]

    stored = OutstandingToken.objects.get(jti=_victim_jti(refresh)).token

    assert stored == token_digest(refresh)
    assert refresh not in stored


def test_a_token_value_from_a_database_dump_is_useless(anonymous_client, admin_user):
    _login(anonymous_client)
    dumped = OutstandingToken.objects.get().token

    response = anonymous_client.post("/api/auth/refresh", {"refresh": dumped}, format="json")

    assert response.status_code == 401


def test_migration_replaces_plain_tokens_by_their_digest(anonymous_client, admin_user):
    # given: a row as simplejwt wrote it before this change (the token in plain text)
    refresh = _login(anonymous_client)["refresh"]
    OutstandingToken.objects.update(token=refresh)
    migration = importlib.import_module("accounts.migrations.0002_hash_stored_refresh_tokens")

    # when
    from django.apps import apps

    migration.hash_plain_tokens(apps, None)

    # then: stored as a digest, and the token still refreshes
    assert OutstandingToken.objects.get().token == token_digest(refresh)
    response = anonymous_client.post("/api/auth/refresh", {"refresh": refresh}, format="json")
    assert response.status_code == 200
