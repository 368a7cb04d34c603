"""API keys: made and revoked by admins, shown once, stored as a digest; a key acts in its
workspace only, with its scopes only, never on pages or in the Django admin, limited per key."""

from __future__ import annotations

import collections
import logging
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import api_keys, services
from accounts.models import ApiKey
from accounts.tests.factories import UserFactory
from accounts.tokens import token_digest
from conversations.models import Conversation
from conversations.tests.factories import ContactFactory, ConversationFactory
from flame.logging import JsonFormatter
from flame.tests import hostile

pytestmark = pytest.mark.django_db

READ = ApiKey.Scope.READ
CONVERSATIONS_WRITE = ApiKey.Scope.CONVERSATIONS_WRITE
CONTACTS_WRITE = ApiKey.Scope.CONTACTS_WRITE
ALL_SCOPES = list(ApiKey.Scope.values)


def _key(admin, scopes=(READ,), **extra) -> tuple[ApiKey, str]:
    return services.api_key_create(by=admin, name="CRM sync", scopes=list(scopes), **extra)


def key_client(secret: str, *, header: str = "x-api-key") -> APIClient:
    client = APIClient()
    if header == "bearer":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    else:
        client.credentials(HTTP_X_API_KEY=secret)
    return client


# --- creating, listing, revoking --------------------------------------------------------------


def test_an_admin_creates_a_key_whose_secret_is_shown_once_and_stored_as_a_digest(
    admin_client, admin_user
):
    # when
    response = admin_client.post(
        "/api/api-keys",
        {"name": "CRM sync", "scopes": ["contacts:write", "read"]},
        format="json",
    )

    # then
    assert response.status_code == 201, response.content
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("flm_")
    assert len(secret) == api_keys.SECRET_LENGTH
    assert body["prefix"] == secret[:12]
    assert body["scopes"] == ["read", "contacts:write"]
    assert body["state"] == "active"
    assert body["created_by"] == {"id": str(admin_user.pk), "name": "Ana Admin"}
    stored = ApiKey.objects.get(pk=body["id"])
    assert stored.digest == token_digest(secret)
    assert secret not in str(ApiKey.objects.filter(pk=stored.pk).values().first())

    listed = admin_client.get("/api/api-keys")
    assert listed.status_code == 200
    assert secret not in listed.content.decode()
    assert stored.digest not in listed.content.decode()
    assert [row["name"] for row in listed.json()["results"]] == ["CRM sync"]
    assert "secret" not in listed.json()["results"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "scopes": ["read"]}, "name"),
        ({"name": "  ", "scopes": ["read"]}, "name"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["everything"]}, "scopes"),
        ({"name": "x", "scopes": "read"}, "scopes"),
        ({"name": "x", "scopes": ["read"], "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(admin_client, body, field):
    response = admin_client.post("/api/api-keys", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert ApiKey.objects.count() == 0


def test_agents_cannot_list_create_or_revoke_keys(agent_client, admin_user):
    key, _ = _key(admin_user)

    assert agent_client.get("/api/api-keys").status_code == 403
    assert agent_client.post("/api/api-keys", {"name": "x", "scopes": ["read"]}).status_code == 403
    assert agent_client.delete(f"/api/api-keys/{key.pk}").status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None
    assert ApiKey.objects.count() == 1


def test_another_workspace_s_admin_neither_sees_nor_revokes_a_key(outsider_client, admin_user):
    key, _ = _key(admin_user)

    assert outsider_client.get("/api/api-keys").json()["results"] == []
    response = outsider_client.delete(f"/api/api-keys/{key.pk}")

    assert response.status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_a_revoked_key_is_refused_at_once_and_stays_listed(admin_client, admin_user):
    key, secret = _key(admin_user)
    assert key_client(secret).get("/api/conversations").status_code == 200

    assert admin_client.delete(f"/api/api-keys/{key.pk}").status_code == 204
    assert admin_client.delete(f"/api/api-keys/{key.pk}").status_code == 204  # idempotent

    response = key_client(secret).get("/api/conversations")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "api_key_not_valid"
    assert response.json()["error"]["message"] == "This API key has been revoked."
    [row] = admin_client.get("/api/api-keys").json()["results"]
    assert row["state"] == "revoked"
    assert row["revoked_at"] is not None


def test_a_key_on_a_plan_without_api_access_is_refused_like_a_token(admin_client, admin_user):
    _, secret = _key(admin_user)
    workspace = admin_user.workspace
    workspace.plan = "free"
    workspace.save(update_fields=["plan"])

    used = key_client(secret).get("/api/conversations")
    created = admin_client.post("/api/api-keys", {"name": "x", "scopes": ["read"]}, format="json")

    assert used.status_code == 403
    assert used.json()["error"]["code"] == "plan_limit_reached"
    # The admin's own JWT is refused the same way; the page below still works on the plan.
    assert created.status_code == 403
    assert ApiKey.objects.count() == 1


# --- what a key may do ------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["x-api-key", "bearer"])
def test_a_key_reads_its_workspace_as_its_admin_would(admin_user, outsider, header):
    mine = ConversationFactory(workspace=admin_user.workspace)
    ConversationFactory(workspace=outsider.workspace)
    _, secret = _key(admin_user)

    response = key_client(secret, header=header).get("/api/conversations")

    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["results"]] == [str(mine.pk)]


def test_a_key_never_reaches_another_workspace(admin_user, outsider):
    theirs = ConversationFactory(workspace=outsider.workspace, status="active")
    contact = ContactFactory(workspace=outsider.workspace, name="Theirs")
    _, secret = _key(admin_user, scopes=ALL_SCOPES)
    client = key_client(secret)

    reads = [
        client.get(f"/api/conversations/{theirs.pk}"),
        client.get(f"/api/conversations/{theirs.pk}/messages"),
        client.get(f"/api/contacts/{contact.pk}"),
    ]
    writes = [
        client.patch(f"/api/conversations/{theirs.pk}", {"status": "resolved"}, format="json"),
        client.post(f"/api/conversations/{theirs.pk}/messages", {"content": "hi"}, format="json"),
        client.patch(f"/api/contacts/{contact.pk}", {"name": "Mine now"}, format="json"),
    ]

    assert [r.status_code for r in reads + writes] == [404] * 6
    theirs.refresh_from_db()
    contact.refresh_from_db()
    assert theirs.status == "active"
    assert theirs.messages.count() == 0
    assert contact.name == "Theirs"


def test_a_key_with_write_scopes_writes_within_them(admin_user):
    conversation = ConversationFactory(workspace=admin_user.workspace, status="active")
    contact = ContactFactory(workspace=admin_user.workspace, name="Old")
    _, secret = _key(admin_user, scopes=[READ, CONVERSATIONS_WRITE])
    client = key_client(secret)

    resolved = client.post(
        f"/api/conversations/{conversation.pk}/status", {"status": "resolved"}, format="json"
    )
    renamed = client.patch(f"/api/contacts/{contact.pk}", {"name": "New"}, format="json")

    assert resolved.status_code == 200, resolved.content
    assert renamed.status_code == 403
    assert renamed.json()["error"] == {
        "code": "insufficient_scope",
        "message": "This API key lacks the contacts:write scope.",
        "details": {"required_scope": "contacts:write", "scopes": ["read", "conversations:write"]},
    }
    conversation.refresh_from_db()
    contact.refresh_from_db()
    assert conversation.status == "resolved"
    assert contact.name == "Old"


WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _writes() -> list[hostile.Operation]:
    return [op for op in hostile.operations() if op.method in WRITE_METHODS]


def _any_path_values() -> collections.defaultdict:
    # Refused before any view runs: the ids need not name rows, only route.
    return collections.defaultdict(lambda: str(uuid.uuid4()), provider_name="stripe")


def test_a_read_only_key_is_refused_on_every_write_endpoint(admin_user, settings):
    settings.RATELIMIT_ENABLE = False
    ConversationFactory(workspace=admin_user.workspace)
    _, secret = _key(admin_user, scopes=[READ])
    client = key_client(secret)
    operations = _writes()
    assert len(operations) > 60  # the sweep reaches the whole API

    refused = {}
    for operation in operations:
        before = hostile.row_counts()
        url = hostile.url_for(operation, _any_path_values())
        response = client.generic(operation.method, url, b"{}", content_type="application/json")
        refused[str(operation)] = response.status_code
        assert hostile.row_counts() == before, f"{operation} changed the database"
        if response.status_code == 403:
            assert response.json()["error"]["code"] == "insufficient_scope", operation

    # Public endpoints (sign-in, registration, platform webhooks) do not authenticate at all:
    # a key there is just ignored, and they answer as to anyone.
    public = {k: v for k, v in refused.items() if v != 403}
    assert set(public) <= PUBLIC_WRITES, public


PUBLIC_WRITES = {
    "POST /api/auth/register/",
    "POST /api/auth/register/confirm/",
    "POST /api/auth/login/",
    "POST /api/auth/refresh/",
    "POST /api/auth/logout/",
    "POST /api/auth/forgot-password/",
    "POST /api/auth/reset-password/",
}


def test_even_an_all_scopes_key_cannot_reach_people_s_and_operators_endpoints(admin_user):
    _, secret = _key(admin_user, scopes=ALL_SCOPES)
    client = key_client(secret)

    answers = {
        path: client.get(path).status_code
        for path in (
            "/api/api-keys",
            "/api/auth/me",
            "/api/notifications",
            "/api/payments/subscription",
            "/api/admin/metrics",
        )
    }
    writes = [
        client.post("/api/api-keys", {"name": "x", "scopes": ["read"]}, format="json"),
        client.post("/api/users", {"email": "n@a.example", "name": "N"}, format="json"),
        client.patch("/api/auth/profile", {"name": "Key"}, format="json"),
    ]

    assert set(answers.values()) == {403}, answers
    assert [w.status_code for w in writes] == [403, 403, 403]
    assert ApiKey.objects.count() == 1


def test_the_scope_table():
    assert api_keys.required_scope("GET", "/api/conversations/") == READ
    assert api_keys.required_scope("POST", "/api/conversations/1/messages") == CONVERSATIONS_WRITE
    assert api_keys.required_scope("PATCH", "/api/contacts/1") == CONTACTS_WRITE
    assert api_keys.required_scope("GET", "/api/contact-attributes/") == READ
    assert api_keys.required_scope("POST", "/api/contact-attributes/") is None
    assert api_keys.required_scope("DELETE", "/api/tags/1") is None
    assert api_keys.required_scope("GET", "/api/api-keys") is None
    assert api_keys.required_scope("GET", "/inbox/") is None


# --- refused keys -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("expired", "This API key has expired."),
        ("revoked", "This API key has been revoked."),
        ("unknown", "This API key is not valid."),
        ("garbage", "This API key is not valid."),
        ("empty", "This API key is not valid."),
        ("admin demoted", "The admin who created this API key is no longer an active admin"),
        ("admin deactivated", "The admin who created this API key is no longer an active admin"),
    ],
)
def test_a_key_that_does_not_work_is_a_401(admin_user, case, message):
    UserFactory(workspace=admin_user.workspace, role="admin")  # so the admin can be demoted
    key, secret = _key(admin_user)
    now = timezone.now()
    if case == "expired":
        ApiKey.objects.filter(pk=key.pk).update(expires_at=now - timedelta(seconds=1))
    elif case == "revoked":
        services.api_key_revoke(by=admin_user, key=key)
    elif case == "unknown":
        secret = api_keys.new_secret()
    elif case == "garbage":
        secret = "not-a-key"
    elif case == "empty":
        secret = "  "  # a header sent without a value is still a key, and not a valid one
    elif case == "admin demoted":
        admin_user.role = "agent"
        admin_user.save(update_fields=["role"])
    else:
        admin_user.is_active = False
        admin_user.save(update_fields=["is_active"])

    response = key_client(secret).get("/api/conversations")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "api_key_not_valid"
    assert response.json()["error"]["message"].startswith(message)


def test_a_key_with_an_expiry_works_until_then(admin_user):
    _, secret = _key(admin_user, expires_at=timezone.now() + timedelta(days=1))

    assert key_client(secret).get("/api/conversations").status_code == 200


# --- pages and the Django admin use the session only ---------------------------------------


def test_pages_and_the_django_admin_ignore_keys(client, admin_user):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save(update_fields=["is_staff", "is_superuser"])
    _, secret = _key(admin_user, scopes=ALL_SCOPES)

    for path in ("/inbox/", "/settings/api-keys/", "/admin/", "/admin/accounts/apikey/"):
        for headers in ({"HTTP_X_API_KEY": secret}, {"HTTP_AUTHORIZATION": f"Bearer {secret}"}):
            response = client.get(path, **headers)
            assert response.status_code == 302, path
            assert "login" in response["Location"], path


def test_operators_see_keys_in_the_admin_without_their_secret_and_can_revoke(client, admin_user):
    operator = UserFactory(workspace=None, is_staff=True, is_superuser=True, role="agent")
    key, secret = _key(admin_user)
    client.force_login(operator)

    listed = client.get("/admin/accounts/apikey/")
    detail = client.get(f"/admin/accounts/apikey/{key.pk}/change/")
    revoked = client.post(
        "/admin/accounts/apikey/",
        {"action": "revoke_keys", "_selected_action": [str(key.pk)]},
    )

    assert listed.status_code == 200
    assert detail.status_code == 200
    for page in (listed, detail):
        assert secret not in page.content.decode()
        assert key.digest not in page.content.decode()
    assert b"CRM sync" in listed.content
    assert client.get("/admin/accounts/apikey/add/").status_code == 403
    assert revoked.status_code == 302
    key.refresh_from_db()
    assert key.revoked_by == operator


def test_the_secret_never_reaches_the_logs(admin_client, admin_user, caplog):
    caplog.set_level(logging.DEBUG)

    created = admin_client.post("/api/api-keys", {"name": "x", "scopes": ["read"]}, format="json")
    secret = created.json()["secret"]
    key_client(secret).get("/api/conversations")
    key_client(secret).post("/api/conversations/bulk", {}, format="json")  # a refused call
    key_client(secret + "x").get("/api/conversations")  # a 401
    logging.getLogger("flame.test").warning("client sent %s", f"X-Api-Key: {secret}")

    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    assert any("/api/conversations" in line for line in lines)
    assert not [line for line in lines if secret[len("flm_") :][:20] in line]


# --- last use and rate limits ------------------------------------------------------------------


def test_last_use_is_written_at_most_once_a_minute(admin_user, django_assert_num_queries):
    key, secret = _key(admin_user)
    client = key_client(secret)

    client.get("/api/tags")
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None

    client.get("/api/tags")
    key.refresh_from_db()
    assert key.last_used_at == first  # within the minute: not written again

    ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    client.get("/api/tags")
    key.refresh_from_db()
    assert key.last_used_at > first


def test_each_key_has_its_own_rate_limit(admin_user, admin_client, settings):
    settings.RATELIMIT_API_KEY = "3/m"
    settings.RATELIMIT_USER = "3/m"
    _, first = _key(admin_user)
    _, second = _key(admin_user)

    answers = [key_client(first).get("/api/tags").status_code for _ in range(4)]
    other = key_client(second).get("/api/tags")
    admin_own = admin_client.get("/api/tags")

    assert answers == [200, 200, 200, 429]
    limited = key_client(first).get("/api/tags")
    assert limited.json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in limited
    # Neither the other key nor the admin it acts as spent anything of the first key's.
    assert other.status_code == 200
    assert admin_own.status_code == 200


def test_keys_we_issued_are_not_counted_as_anonymous_but_made_up_ones_are(admin_user, settings):
    settings.RATELIMIT_ANONYMOUS = "2/m"
    _, secret = _key(admin_user)
    forged = "flm_" + "A" * 40 + "0" * 12

    real = [key_client(secret).get("/api/tags").status_code for _ in range(4)]
    made_up = [key_client(forged).get("/api/tags").status_code for _ in range(3)]

    assert real == [200] * 4
    assert made_up == [401, 401, 429]


def test_a_key_acts_as_its_admin_in_what_it_writes(admin_user):
    conversation = ConversationFactory(workspace=admin_user.workspace, status="active")
    _, secret = _key(admin_user, scopes=[READ, CONVERSATIONS_WRITE])

    response = key_client(secret).post(
        f"/api/conversations/{conversation.pk}/assign",
        {"agent_id": str(admin_user.pk)},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert Conversation.objects.get(pk=conversation.pk).assigned_agent_id == admin_user.pk
