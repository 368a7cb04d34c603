"""Session pages: sign in/out, password reset from the e-mailed link, language switch."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from accounts.emails import password_token_for
from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

PAGES = ["/inbox/", "/dashboard/", "/settings/assistants/", "/settings/integrations/"]


def _sign_in(client, email, password=DEFAULT_PASSWORD, **extra):
    return client.post("/login/", {"email": email, "password": password, **extra})


def test_pages_send_anonymous_visitors_to_sign_in(client):
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={page}"


def test_sign_in_opens_a_session_and_follows_a_local_next(client, agent_user):
    response = _sign_in(client, "  AGENT@a.example ", next="/dashboard/")

    assert (response.status_code, response["Location"]) == (302, "/dashboard/")
    assert client.get("/inbox/").status_code == 200


def test_sign_in_never_redirects_off_site(client, agent_user):
    response = _sign_in(client, agent_user.email, next="https://evil.example/phish")

    assert response["Location"] == "/inbox/"


def test_wrong_password_is_400_without_saying_which_part_failed(client, agent_user):
    response = _sign_in(client, agent_user.email, password="nope")

    assert response.status_code == 400
    assert "The e-mail or the password is not right." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_inactive_users_cannot_sign_in(client, agent_user):
    agent_user.is_active = False
    agent_user.save()

    assert _sign_in(client, agent_user.email).status_code == 400


def test_sign_in_is_rate_limited_per_address(client, agent_user, settings):
    settings.RATELIMIT_LOGIN = "3/m"
    for _ in range(3):
        _sign_in(client, agent_user.email, password="nope")

    response = _sign_in(client, agent_user.email)  # even the right password now waits

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_sign_in_needs_the_csrf_token(agent_user):
    client = Client(enforce_csrf_checks=True)

    response = _sign_in(client, agent_user.email)

    assert response.status_code == 403
    page = client.get("/login/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    signed_in = _sign_in(client, agent_user.email, csrfmiddlewaretoken=token)
    assert signed_in.status_code == 302


def test_sign_out_is_a_post_and_ends_the_session(client, agent_user):
    client.force_login(agent_user)

    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")

    assert response["Location"] == "/login/"
    assert client.get("/inbox/").status_code == 302


def test_forgot_password_answers_the_same_for_unknown_addresses(
    client, agent_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post("/forgot-password/", {"email": agent_user.email})
        unknown = client.post("/forgot-password/", {"email": "nobody@a.example"})

    assert known.status_code == unknown.status_code == 200
    assert len(mail.outbox) == 1
    assert "/reset-password/" in mail.outbox[0].body


def test_reset_link_sets_a_new_password_once(client, agent_user):
    url = f"/reset-password/{password_token_for(agent_user)}/"
    new = "a-much-better-secret-42"

    assert client.get(url).status_code == 200
    response = client.post(url, {"password": new, "password_confirm": new})

    assert (response.status_code, response["Location"]) == (302, "/login/")
    agent_user.refresh_from_db()
    assert agent_user.check_password(new)
    again = client.post(
        url, {"password": "another-secret-43", "password_confirm": "another-secret-43"}
    )
    assert again.status_code == 400  # the link is single-use


@pytest.mark.parametrize(
    ("password", "confirm"),
    [
        ("a-much-better-secret-42", "different-secret-42"),
        ("short", "short"),
        ("12345678", "12345678"),
    ],
)
def test_bad_new_password_is_400_and_changes_nothing(client, agent_user, password, confirm):
    url = f"/reset-password/{password_token_for(agent_user)}/"

    response = client.post(url, {"password": password, "password_confirm": confirm})

    assert response.status_code == 400
    agent_user.refresh_from_db()
    assert agent_user.check_password(DEFAULT_PASSWORD)


def test_language_switch_is_kept_on_the_user(client, agent_user):
    client.force_login(agent_user)

    response = client.post("/language/", {"language": "en", "next": "/dashboard/"})

    assert response["Location"] == "/dashboard/"
    agent_user.refresh_from_db()
    assert agent_user.language == "en"
    assert client.get("/inbox/")["Content-Language"] == "en"


def test_unknown_language_is_400(client, agent_user):
    client.force_login(agent_user)

    assert client.post("/language/", {"language": "fr"}).status_code == 400
    agent_user.refresh_from_db()
    assert agent_user.language == ""


def _assert_strict_scripts(response, page: str) -> None:
    assert response.status_code == 200, page
    script_src = re.search(r"script-src ([^;]*)", response["Content-Security-Policy"]).group(1)
    assert script_src.strip() == "'self'", page
    html = response.content.decode()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, (page, tag)
    assert not re.search(r"\son[a-z]+=", html), page


def test_pages_have_a_strict_script_policy_and_no_inline_scripts(client, admin_user):
    for page in ["/login/", "/forgot-password/"]:
        _assert_strict_scripts(client.get(page), page)
    client.force_login(admin_user)
    for page in [*PAGES, "/settings/agents/", "/settings/workspace/"]:
        _assert_strict_scripts(client.get(page), page)


def test_session_and_csrf_cookies_are_out_of_reach_of_scripts(client, agent_user, settings):
    _sign_in(client, agent_user.email)

    assert client.cookies["sessionid"]["httponly"]
    assert settings.CSRF_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"


# --- sign-up confirmation (the link of POST /api/auth/register) ---


def _pending_signup(django_capture_on_commit_callbacks) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(
            "/api/auth/register",
            {
                "email": "founder@shop.example",
                "password": "violet-Mango-42-river",
                "name": "Fer",
                "workspace_name": "Tacos Fer",
            },
            content_type="application/json",
        )
    return re.search(r"(/signup/confirm/[^/\s]+/)", mail.outbox[-1].body).group(1)


def test_opening_the_signup_link_only_asks_for_a_click(client, django_capture_on_commit_callbacks):
    link = _pending_signup(django_capture_on_commit_callbacks)

    response = client.get(link)

    # A mail scanner that follows the link confirms nothing.
    assert response.status_code == 200
    assert 'data-testid="signup-confirm"' in response.content.decode()
    assert User.objects.get(email="founder@shop.example").is_pending is True


def test_confirming_the_signup_page_signs_in(client, django_capture_on_commit_callbacks):
    link = _pending_signup(django_capture_on_commit_callbacks)

    response = client.post(link)

    assert (response.status_code, response["Location"]) == (302, "/inbox/")
    assert client.get("/inbox/").status_code == 200
    assert User.objects.get(email="founder@shop.example").is_pending is False


def test_a_used_or_forged_signup_link_is_400(client, django_capture_on_commit_callbacks):
    link = _pending_signup(django_capture_on_commit_callbacks)
    Client().post(link)

    used = client.post(link)
    forged = client.post("/signup/confirm/not-a-token/")

    assert (used.status_code, forged.status_code) == (400, 400)
    assert "This confirmation link is invalid or has expired." in used.content.decode()
    assert "_auth_user_id" not in client.session


def test_signed_in_pages_are_never_stored_by_the_browser(client, agent_user):
    # After signing out, the back button must not bring the conversations back from a cache.
    _sign_in(client, agent_user.email)

    response = client.get("/inbox/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
