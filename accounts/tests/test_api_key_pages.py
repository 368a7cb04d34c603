"""The API keys page through the Django test client (session sign-in)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import ApiKey
from accounts.tokens import token_digest

pytestmark = pytest.mark.django_db

PAGE = "/settings/api-keys/"


def _revoke_url(key: ApiKey) -> str:
    return f"/settings/api-keys/{key.pk}/revoke/"


def test_an_admin_creates_a_key_and_sees_its_secret_once(client, admin_user):
    admin_user.workspace.language = "en"
    admin_user.workspace.save(update_fields=["language"])
    client.force_login(admin_user)

    response = client.post(
        PAGE, {"name": "Shop", "scopes": ["read", "contacts:write"], "expires_in_days": "30"}
    )

    assert response.status_code == 200
    key = ApiKey.objects.get()
    secret = response.context["secret"]
    assert key.digest == token_digest(secret)
    assert secret in response.content.decode()
    assert key.scopes == ["read", "contacts:write"]
    expected_expiry = timezone.now() + timedelta(days=30)
    assert abs((key.expires_at - expected_expiry).total_seconds()) < 60
    assert "no-store" in response["Cache-Control"]

    listed = client.get(PAGE)
    assert listed.status_code == 200
    assert secret not in listed.content.decode()
    assert key.prefix in listed.content.decode()
    assert b"Shop" in listed.content


def test_bad_input_re_renders_with_400_and_creates_nothing(client, admin_user):
    client.force_login(admin_user)

    response = client.post(PAGE, {"name": "", "scopes": ["everything"], "expires_in_days": "7"})

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "scopes", "expires_in_days"}
    assert ApiKey.objects.count() == 0


def test_an_admin_revokes_a_key_after_confirming(client, admin_user):
    key, _ = services.api_key_create(by=admin_user, name="Shop", scopes=["read"])
    client.force_login(admin_user)

    confirm = client.get(_revoke_url(key))
    revoked = client.post(_revoke_url(key))

    assert confirm.status_code == 200
    assert revoked.status_code == 302
    assert revoked["Location"] == PAGE
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert key.revoked_by == admin_user


def test_agents_get_403_and_other_workspaces_404(client, admin_user, agent_user, outsider):
    key, _ = services.api_key_create(by=admin_user, name="Shop", scopes=["read"])

    client.force_login(agent_user)
    agent_answers = [client.get(PAGE).status_code, client.post(_revoke_url(key)).status_code]
    agent_create = client.post(PAGE, {"name": "Mine", "scopes": ["read"]}).status_code
    client.force_login(outsider)
    outsider_answers = [client.get(_revoke_url(key)).status_code]
    outsider_answers.append(client.post(_revoke_url(key)).status_code)
    outsider_list = client.get(PAGE)

    assert agent_answers == [403, 403]
    assert agent_create == 403
    assert outsider_answers == [404, 404]
    assert b"Shop" not in outsider_list.content
    key.refresh_from_db()
    assert key.revoked_at is None
    assert ApiKey.objects.count() == 1


def test_the_workspace_page_links_to_the_keys(client, admin_user):
    client.force_login(admin_user)

    assert b'href="/settings/api-keys/"' in client.get("/settings/workspace/").content


def test_the_new_settings_pages_have_no_inline_scripts(client, admin_user, settings):
    from accounts.tests.test_auth_pages import _assert_strict_scripts
    from outgoing_webhooks.services import endpoint_create

    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = True
    key, _ = services.api_key_create(by=admin_user, name="Shop", scopes=["read"])
    endpoint = endpoint_create(
        by=admin_user, url="http://127.0.0.1:9/h", events=["message.created"]
    )
    client.force_login(admin_user)

    for page in [
        PAGE,
        _revoke_url(key),
        "/settings/audit-log/",
        "/settings/webhooks/",
        f"/settings/webhooks/{endpoint.pk}/",
        f"/settings/webhooks/{endpoint.pk}/delete/",
    ]:
        _assert_strict_scripts(client.get(page), page)
