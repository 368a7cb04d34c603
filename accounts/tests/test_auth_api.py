from __future__ import annotations

import re
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.emails import password_token_for, signup_token_for
from accounts.models import User, Workspace
from accounts.services import signups_prune_unconfirmed
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

STRONG = "violet-Mango-42-river"


def _register(client, **overrides):
    body = {
        "email": "founder@shop.example",
        "password": STRONG,
        "name": "Fer Founder",
        "workspace_name": "Tacos Fer",
    }
    body.update(overrides)
    return client.post("/api/auth/register", body, format="json")


def _login(client, email, password=DEFAULT_PASSWORD):
    return client.post("/api/auth/login", {"email": email, "password": password}, format="json")


def _bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


# --- register ---


def _registered(client, django_capture_on_commit_callbacks, **overrides):
    with django_capture_on_commit_callbacks(execute=True):
        response = _register(client, **overrides)
    return response


def _link_token(message) -> str:
    return re.search(r"/signup/confirm/([^/\s]+)/", message.body).group(1)


def test_register_creates_a_pending_workspace_and_emails_the_confirmation(
    anonymous_client, django_capture_on_commit_callbacks
):
    response = _registered(anonymous_client, django_capture_on_commit_callbacks)

    assert response.status_code == 202
    assert set(response.json()) == {"detail"}
    user = User.objects.get(email="founder@shop.example")
    assert (user.role, user.is_pending, user.workspace.name) == ("admin", True, "Tacos Fer")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["founder@shop.example"]
    assert "/signup/confirm/" in mail.outbox[0].body
    assert _login(anonymous_client, "founder@shop.example", STRONG).status_code == 401


def test_confirming_the_signup_signs_the_admin_in(
    anonymous_client, django_capture_on_commit_callbacks
):
    _registered(anonymous_client, django_capture_on_commit_callbacks)
    token = _link_token(mail.outbox[0])

    response = anonymous_client.post("/api/auth/register/confirm", {"token": token}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "user"}
    user = User.objects.get(email="founder@shop.example")
    assert user.is_pending is False
    assert body["user"]["workspace"]["id"] == str(user.workspace_id)
    assert "signup_pending" not in user.workspace.settings
    assert _login(anonymous_client, "founder@shop.example", STRONG).status_code == 200
    again = anonymous_client.post("/api/auth/register/confirm", {"token": token}, format="json")
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_token"


def test_register_with_a_taken_address_answers_the_same_and_tells_only_its_owner(
    anonymous_client, admin_user, django_capture_on_commit_callbacks
):
    # given: the address belongs to workspace A's admin
    # when
    taken = _registered(
        anonymous_client, django_capture_on_commit_callbacks, email="ADMIN@a.example"
    )
    free = _registered(anonymous_client, django_capture_on_commit_callbacks)

    # then: the caller cannot tell the two apart
    assert (taken.status_code, taken.json()) == (free.status_code, free.json())
    # only the address's owner learns about it, and no link lets anyone claim the address
    warning = mail.outbox[0]
    assert warning.to == ["admin@a.example"]
    assert "/signup/confirm/" not in warning.body
    assert "/login/" in warning.body
    admin_user.refresh_from_db()
    assert admin_user.check_password(DEFAULT_PASSWORD)


def test_a_stolen_confirmation_cannot_claim_a_taken_address(
    anonymous_client, admin_user, django_capture_on_commit_callbacks
):
    _registered(anonymous_client, django_capture_on_commit_callbacks, email="admin@a.example")
    pending = User.objects.get(email="admin@a.example", is_pending=True)
    token = signup_token_for(pending)

    response = anonymous_client.post("/api/auth/register/confirm", {"token": token}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "email_taken"
    pending.refresh_from_db()
    assert pending.is_pending is True


def test_register_confirm_with_a_forged_token_is_400(anonymous_client):
    response = anonymous_client.post(
        "/api/auth/register/confirm", {"token": "forged:token"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_token"


def test_unconfirmed_signups_are_pruned_after_the_link_expires(
    anonymous_client, admin_user, django_capture_on_commit_callbacks, settings
):
    _registered(anonymous_client, django_capture_on_commit_callbacks)
    Workspace.objects.filter(name="Tacos Fer").update(
        created_at=timezone.now() - timedelta(seconds=settings.SIGNUP_CONFIRM_SECONDS + 1)
    )

    pruned = signups_prune_unconfirmed()

    assert pruned == 1
    assert not User.objects.filter(email="founder@shop.example").exists()
    assert Workspace.objects.filter(pk=admin_user.workspace_id).exists()


def test_register_weak_password_is_400_and_creates_nothing(anonymous_client):
    response = _register(anonymous_client, password="12345678")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "password" in error["details"]
    assert User.objects.count() == 0
    assert Workspace.objects.count() == 0


def test_register_missing_fields_lists_each_field(anonymous_client):
    response = anonymous_client.post("/api/auth/register", {}, format="json")

    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {
        "email",
        "password",
        "name",
        "workspace_name",
    }


def test_register_rejects_malformed_json(anonymous_client):
    response = anonymous_client.post(
        "/api/auth/register", data="{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


# --- login ---


def test_login_returns_tokens_and_user(anonymous_client, admin_user):
    response = _login(anonymous_client, "Admin@A.example")

    assert response.status_code == 200
    body = response.json()
    assert body["user"]["email"] == "admin@a.example"
    me = _bearer(body["access"]).get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["id"] == str(admin_user.pk)


def test_login_wrong_password_is_401(anonymous_client, admin_user):
    response = _login(anonymous_client, "admin@a.example", "nope-nope-nope")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_login_inactive_user_is_401(anonymous_client, admin_user):
    admin_user.is_active = False
    admin_user.save()

    response = _login(anonymous_client, "admin@a.example")

    assert response.status_code == 401


def test_access_token_lifetime_defaults_to_15_minutes(anonymous_client, admin_user):
    access = _login(anonymous_client, "admin@a.example").json()["access"]
    claims = jwt.decode(access, options={"verify_signature": False})

    assert claims["exp"] - claims["iat"] == 15 * 60


# --- tokens ---


def test_tampered_token_is_401(admin_user, anonymous_client):
    access = _login(anonymous_client, "admin@a.example").json()["access"]
    header, payload, signature = access.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"

    response = _bearer(tampered).get("/api/auth/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_expired_token_is_401(admin_user):
    now = timezone.now()
    claims = {
        "token_type": "access",
        "exp": int((now - timedelta(minutes=1)).timestamp()),
        "iat": int((now - timedelta(minutes=16)).timestamp()),
        "jti": "expired-jti",
        "user_id": str(admin_user.pk),
    }
    expired = jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")

    response = _bearer(expired).get("/api/auth/me")

    assert response.status_code == 401


def test_no_token_is_401(anonymous_client):
    response = anonymous_client.get("/api/auth/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_refresh_rotates_and_replay_is_401(anonymous_client, admin_user):
    refresh = _login(anonymous_client, "admin@a.example").json()["refresh"]

    first = anonymous_client.post("/api/auth/refresh", {"refresh": refresh}, format="json")
    replay = anonymous_client.post("/api/auth/refresh-token", {"refresh": refresh}, format="json")

    assert first.status_code == 200
    assert set(first.json()) == {"access", "refresh"}
    assert first.json()["refresh"] != refresh
    assert replay.status_code == 401
    rotated = anonymous_client.post(
        "/api/auth/refresh-token/", {"refresh": first.json()["refresh"]}, format="json"
    )
    assert rotated.status_code == 200


def test_refresh_garbage_is_401(anonymous_client):
    response = anonymous_client.post("/api/auth/refresh", {"refresh": "garbage"}, format="json")

    assert response.status_code == 401


def test_refresh_of_deactivated_user_is_401(anonymous_client, admin_user):
    refresh = _login(anonymous_client, "admin@a.example").json()["refresh"]
    User.objects.filter(pk=admin_user.pk).update(is_active=False)

    response = anonymous_client.post("/api/auth/refresh", {"refresh": refresh}, format="json")

    assert response.status_code == 401


def test_logout_blacklists_refresh(anonymous_client, admin_user):
    refresh = _login(anonymous_client, "admin@a.example").json()["refresh"]

    logout = anonymous_client.post("/api/auth/logout", {"refresh": refresh}, format="json")
    again = anonymous_client.post("/api/auth/refresh", {"refresh": refresh}, format="json")

    assert logout.status_code == 200
    assert again.status_code == 401


# --- profile and password ---


def test_profile_get_and_put(admin_client, admin_user):
    response = admin_client.put(
        "/api/auth/profile", {"name": "Ana María", "language": "en"}, format="json"
    )

    assert response.status_code == 200
    admin_user.refresh_from_db()
    assert (admin_user.name, admin_user.language) == ("Ana María", "en")
    assert admin_client.get("/api/auth/profile").json()["name"] == "Ana María"


def test_profile_put_cannot_change_role_or_email(admin_client, admin_user):
    admin_client.put(
        "/api/auth/profile", {"role": "agent", "email": "x@evil.example"}, format="json"
    )

    admin_user.refresh_from_db()
    assert (admin_user.role, admin_user.email) == ("admin", "admin@a.example")


def test_profile_bad_avatar_url_is_400(admin_client, admin_user):
    response = admin_client.put("/api/auth/profile", {"avatar_url": "not a url"}, format="json")

    assert response.status_code == 400
    admin_user.refresh_from_db()
    assert admin_user.avatar_url == ""


def test_change_password_revokes_earlier_tokens(anonymous_client, admin_user):
    tokens = _login(anonymous_client, "admin@a.example").json()
    client = _bearer(tokens["access"])

    response = client.post(
        "/api/auth/change-password",
        {"current_password": DEFAULT_PASSWORD, "new_password": STRONG},
        format="json",
    )

    assert response.status_code == 200
    assert _bearer(tokens["access"]).get("/api/auth/me").status_code == 401
    refreshed = anonymous_client.post(
        "/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json"
    )
    assert refreshed.status_code == 401
    assert _bearer(response.json()["access"]).get("/api/auth/me").status_code == 200
    assert _login(anonymous_client, "admin@a.example", STRONG).status_code == 200


def test_change_password_wrong_current_is_400_and_keeps_password(admin_client, admin_user):
    response = admin_client.post(
        "/api/auth/change-password",
        {"current_password": "wrong", "new_password": STRONG},
        format="json",
    )

    assert response.status_code == 400
    assert "current_password" in response.json()["error"]["details"]
    admin_user.refresh_from_db()
    assert admin_user.check_password(DEFAULT_PASSWORD)


def test_change_password_weak_new_is_400(admin_client, admin_user):
    response = admin_client.post(
        "/api/auth/change-password",
        {"current_password": DEFAULT_PASSWORD, "new_password": "password"},
        format="json",
    )

    assert response.status_code == 400
    admin_user.refresh_from_db()
    assert admin_user.check_password(DEFAULT_PASSWORD)


# --- forgot / reset ---


def test_forgot_password_emails_a_link(
    anonymous_client, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = anonymous_client.post(
            "/api/auth/forgot-password", {"email": "admin@a.example"}, format="json"
        )

    assert response.status_code == 200
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["admin@a.example"]
    assert "/reset-password/" in mail.outbox[0].body


def test_forgot_password_unknown_email_is_200_and_sends_nothing(
    anonymous_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = anonymous_client.post(
            "/api/auth/forgot-password", {"email": "nobody@nowhere.example"}, format="json"
        )

    assert response.status_code == 200
    assert mail.outbox == []


def test_reset_password_works_once(anonymous_client, admin_user):
    token = password_token_for(admin_user)

    first = anonymous_client.post(
        "/api/auth/reset-password", {"token": token, "password": STRONG}, format="json"
    )
    reuse = anonymous_client.post(
        "/api/auth/reset-password", {"token": token, "password": "another-Strong-77"}, format="json"
    )

    assert first.status_code == 200
    assert reuse.status_code == 400
    assert reuse.json()["error"]["code"] == "invalid_token"
    admin_user.refresh_from_db()
    assert admin_user.check_password(STRONG)


def test_reset_password_expired_token_is_400(anonymous_client, admin_user, settings):
    token = password_token_for(admin_user)
    settings.PASSWORD_RESET_TIMEOUT = -1  # every token is now past its lifetime

    response = anonymous_client.post(
        "/api/auth/reset-password", {"token": token, "password": STRONG}, format="json"
    )

    assert response.status_code == 400
    admin_user.refresh_from_db()
    assert admin_user.check_password(DEFAULT_PASSWORD)


@pytest.mark.parametrize("token", ["", "garbage", "bm90LWEtdXVpZA.abc-def", "...."])
def test_reset_password_garbage_token_is_400(anonymous_client, admin_user, token):
    response = anonymous_client.post(
        "/api/auth/reset-password", {"token": token, "password": STRONG}, format="json"
    )

    assert response.status_code == 400
    admin_user.refresh_from_db()
    assert admin_user.check_password(DEFAULT_PASSWORD)


def test_reset_password_revokes_refresh_tokens(anonymous_client, admin_user):
    refresh = _login(anonymous_client, "admin@a.example").json()["refresh"]

    anonymous_client.post(
        "/api/auth/reset-password",
        {"token": password_token_for(admin_user), "password": STRONG},
        format="json",
    )

    response = anonymous_client.post("/api/auth/refresh", {"refresh": refresh}, format="json")
    assert response.status_code == 401


def test_platform_operator_without_workspace_cannot_use_workspace_api(db):
    operator = UserFactory(workspace=None, role="admin", is_staff=True, is_superuser=True)
    client = APIClient()
    client.force_authenticate(operator)

    assert client.get("/api/users").status_code == 403
