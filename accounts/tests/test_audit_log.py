"""The audit log: an entry for each audited action (written by the service, in its
transaction), never a secret's value, read by admins through the API, filtered and paged,
pruned after the retention, read-only in Django admin."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import audit, services
from accounts.models import ApiKey, AuditEntry
from accounts.tasks import prune_audit_log_task
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from assistants import auto_reply
from assistants.tests.factories import AssistantFactory
from conversations.services import InboundMessage
from conversations.tests.factories import ConversationFactory
from integrations.inbound import customer_message_receive
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

WHATSAPP = {
    "access_token": "EAAG-canary-token-123",
    "phone_number_id": "113948276501234",
    "app_secret": "canary-app-secret",
}


def entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("created_at"))


def one(action: str) -> AuditEntry:
    found = entries(action)
    assert len(found) == 1, (action, [(e.action, e.data) for e in found])
    return found[0]


# --- sign-ins ---------------------------------------------------------------------------------


def test_sign_ins_and_failed_sign_ins(anonymous_client, admin_user, workspace):
    anonymous_client.post(
        "/api/auth/login", {"email": admin_user.email, "password": DEFAULT_PASSWORD}
    )
    anonymous_client.post("/api/auth/login", {"email": admin_user.email, "password": "nope"})
    anonymous_client.post("/api/auth/login", {"email": "nobody@x.example", "password": "nope"})

    signed_in = one(audit.SIGN_IN)
    assert signed_in.workspace_id == workspace.pk
    assert (signed_in.actor_type, signed_in.actor_user_id) == ("user", admin_user.pk)
    assert (signed_in.target_type, signed_in.target_id) == ("member", str(admin_user.pk))
    assert signed_in.ip == "127.0.0.1"
    mine, unknown = entries(audit.SIGN_IN_FAILED)
    assert (mine.workspace_id, mine.actor_type, mine.target_id) == (
        workspace.pk,
        "system",
        str(admin_user.pk),
    )
    assert mine.data == {"email": admin_user.email}
    # An address without an account: platform-wide, for operators only.
    assert (unknown.workspace_id, unknown.data) == (None, {"email": "nobody@x.example"})


def test_the_sign_in_page_is_audited_too(client, agent_user):
    client.post("/login/", {"email": agent_user.email, "password": DEFAULT_PASSWORD})

    assert one(audit.SIGN_IN).actor_user_id == agent_user.pk


# --- members and the workspace ----------------------------------------------------------------


def test_invitations_role_changes_deactivation_and_reactivation(admin_client, admin_user):
    invited = admin_client.post(
        "/api/users", {"email": "new@a.example", "name": "New", "role": "agent"}, format="json"
    ).json()
    url = f"/api/users/{invited['id']}"
    admin_client.patch(url, {"role": "admin"}, format="json")
    admin_client.delete(url)
    admin_client.patch(url, {"is_active": True}, format="json")

    assert one(audit.MEMBER_INVITED).data == {"email": "new@a.example", "role": "agent"}
    assert one(audit.MEMBER_ROLE_CHANGED).data == {
        "email": "new@a.example",
        "from": "agent",
        "to": "admin",
    }
    for action in (audit.MEMBER_DEACTIVATED, audit.MEMBER_REACTIVATED):
        entry = one(action)
        assert (entry.actor_user_id, entry.target_id) == (admin_user.pk, invited["id"])


def test_workspace_settings(client, admin_user, workspace):
    client.force_login(admin_user)
    client.post(
        "/settings/workspace/",
        {"name": "Pastelería Luna", "timezone": workspace.timezone, "language": "es"},
    )

    entry = one(audit.WORKSPACE_UPDATED)
    assert entry.data["changes"]["name"] == {"from": "Workspace A", "to": "Pastelería Luna"}
    assert "timezone" not in entry.data["changes"]
    assert entry.actor_user_id == admin_user.pk


# --- assistants and channels ------------------------------------------------------------------


def test_assistant_settings(admin_client, admin_user):
    created = admin_client.post(
        "/api/assistants",
        {"name": "Ventas", "type": "auto", "auto_response": "Hola"},
        format="json",
    ).json()
    url = f"/api/assistants/{created['id']}"
    admin_client.patch(
        url, {"status": "inactive", "auto_response": "Hola, ¿qué tal?"}, format="json"
    )
    admin_client.post(
        f"{url}/schedules",
        {"day_of_week": 1, "start_time": "09:00", "end_time": "18:00"},
        format="json",
    )
    admin_client.delete(url)

    assert one(audit.ASSISTANT_CREATED).actor_user_id == admin_user.pk
    updated = one(audit.ASSISTANT_UPDATED)
    assert updated.data == {
        "name": "Ventas",
        "fields": ["auto_response", "status"],
        "status": "inactive",
    }
    assert one(audit.ASSISTANT_SCHEDULE_CHANGED).data["change"] == "created"
    assert one(audit.ASSISTANT_DELETED).target_id == created["id"]


def test_channel_settings_and_credentials_by_name_only(admin_client, admin_user):
    created = admin_client.post(
        "/api/integrations",
        {"platform": "whatsapp", "name": "Ventas", "credentials": WHATSAPP},
        format="json",
    ).json()
    url = f"/api/integrations/{created['id']}"
    admin_client.patch(url, {"credentials": {"access_token": "EAAG-new-canary-456"}}, format="json")
    admin_client.patch(url, {"name": "Ventas MX"}, format="json")
    sandbox = admin_client.post(
        "/api/integrations",
        {"platform": "sandbox", "name": "Pruebas", "credentials": {}},
        format="json",
    ).json()
    admin_client.post(f"/api/integrations/{sandbox['id']}/connect")
    admin_client.post(f"/api/integrations/{sandbox['id']}/disconnect")
    admin_client.delete(url)

    assert entries(audit.CHANNEL_CREATED)[0].data["fields"] == [
        "access_token",
        "app_secret",
        "phone_number_id",
    ]
    assert one(audit.CHANNEL_CREDENTIALS_CHANGED).data["fields"] == ["access_token"]
    assert one(audit.CHANNEL_UPDATED).data["fields"] == ["name"]
    assert one(audit.CHANNEL_CONNECTED).target_id == sandbox["id"]
    assert one(audit.CHANNEL_DISCONNECTED).data["status"] == "inactive"
    assert one(audit.CHANNEL_DELETED).target_id == created["id"]
    stored = json.dumps(list(AuditEntry.objects.values("data", "actor_label", "target_id")))
    for secret in ("EAAG-canary-token-123", "EAAG-new-canary-456", "canary-app-secret"):
        assert secret not in stored


# --- conversations ----------------------------------------------------------------------------


def test_assignments_and_status_changes(admin_client, admin_user, agent_user, workspace):
    conversation = ConversationFactory(workspace=workspace, status="active")
    url = f"/api/conversations/{conversation.pk}"
    admin_client.post(f"{url}/assign", {"agent_id": str(agent_user.pk)}, format="json")
    admin_client.post(f"{url}/status", {"status": "resolved"}, format="json")
    admin_client.post(f"{url}/assign", {"agent_id": None}, format="json")

    assigned = one(audit.CONVERSATION_ASSIGNED)
    assert assigned.data["agent"] == {"id": str(agent_user.pk), "name": "Aldo Agent"}
    assert (assigned.target_type, assigned.target_id) == ("conversation", str(conversation.pk))
    assert one(audit.CONVERSATION_STATUS_CHANGED).data["kind"] == "resolved"
    assert one(audit.CONVERSATION_UNASSIGNED).actor_user_id == admin_user.pk


def test_applied_ai_suggestions(admin_client, workspace):
    conversation = ConversationFactory(
        workspace=workspace, status="active", ai_priority="high", ai_tags=["refund", "vip"]
    )
    admin_client.patch(
        f"/api/conversations/{conversation.pk}",
        {"priority": "high", "tags": ["refund"]},
        format="json",
    )

    assert one(audit.AI_SUGGESTION_APPLIED).data == {"priority": "high", "tags": ["refund"]}


def test_automatic_replies(workspace):
    assistant = AssistantFactory(workspace=workspace, auto_response="Te respondemos en breve.")
    channel = IntegrationFactory(
        workspace=workspace, platform="whatsapp", default_assistant=assistant
    )
    inbound = InboundMessage(
        external_contact_id="5215511111111", external_id="wamid.1", content="Hola"
    )
    message = customer_message_receive(integration=channel, inbound=inbound).message

    done = auto_reply.auto_reply_process(
        message_id=message.pk, now=message.created_at + timedelta(minutes=1)
    )

    entry = one(audit.AI_AUTO_REPLY_SENT)
    assert entry.actor_type == "system"
    assert entry.data["message_id"] == str(done.reply.pk)
    assert entry.data["assistant"] == {"id": str(assistant.pk), "name": assistant.name}


def test_exports(admin_client, admin_user):
    response = admin_client.get("/api/analytics/export.csv")
    b"".join(response.streaming_content)

    entry = one(audit.EXPORT_DOWNLOADED)
    assert entry.actor_user_id == admin_user.pk
    assert entry.data["export"] == "conversations.csv"


# --- API keys ---------------------------------------------------------------------------------


def test_api_keys_created_used_once_an_hour_and_revoked(admin_client, admin_user):
    created = admin_client.post(
        "/api/api-keys", {"name": "CRM", "scopes": ["read"]}, format="json"
    ).json()
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=created["secret"])
    client.get("/api/tags")
    client.get("/api/conversations")
    first_use = one(audit.API_KEY_USED)
    ApiKey.objects.filter(pk=created["id"]).update(
        use_audited_at=timezone.now() - timedelta(hours=1, seconds=1)
    )
    client.get("/api/tags")
    admin_client.delete(f"/api/api-keys/{created['id']}")

    assert one(audit.API_KEY_CREATED).data["scopes"] == ["read"]
    assert (first_use.actor_type, str(first_use.actor_api_key_id)) == ("api_key", created["id"])
    assert first_use.actor_user_id == admin_user.pk
    assert first_use.data == {"name": "CRM", "method": "GET", "path": "/api/tags"}
    assert len(entries(audit.API_KEY_USED)) == 2
    assert one(audit.API_KEY_REVOKED).actor_type == "user"
    stored = json.dumps(list(AuditEntry.objects.values("data", "actor_label")))
    assert created["secret"] not in stored


def test_what_a_key_does_is_attributed_to_the_key(admin_user, agent_user, workspace):
    _, secret = services.api_key_create(
        by=admin_user, name="CRM", scopes=["read", "conversations:write"]
    )
    conversation = ConversationFactory(workspace=workspace, status="active")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    client.post(
        f"/api/conversations/{conversation.pk}/assign",
        {"agent_id": str(agent_user.pk)},
        format="json",
    )

    entry = one(audit.CONVERSATION_ASSIGNED)
    assert entry.actor_type == "api_key"
    assert entry.actor_label.startswith("CRM (flm_")
    assert entry.actor_user_id == admin_user.pk


# --- reading it -------------------------------------------------------------------------------


def _seed(workspace, admin_user, outsider):
    audit.record(action=audit.SIGN_IN, workspace_id=workspace.pk, actor=admin_user)
    audit.record(
        action=audit.EXPORT_DOWNLOADED,
        workspace_id=workspace.pk,
        actor=admin_user,
        target=("export", "conversations.csv"),
    )
    audit.record(action=audit.AI_AUTO_REPLY_SENT, workspace_id=workspace.pk, actor=None)
    audit.record(action=audit.SIGN_IN, workspace_id=outsider.workspace_id, actor=outsider)


def test_admins_read_their_workspace_s_log_filtered_and_paged(
    admin_client, admin_user, outsider, workspace
):
    _seed(workspace, admin_user, outsider)

    everything = admin_client.get("/api/audit-log").json()["results"]
    signins = admin_client.get("/api/audit-log?action=auth.sign_in").json()["results"]
    by_system = admin_client.get("/api/audit-log?actor_type=system").json()["results"]
    by_admin = admin_client.get(f"/api/audit-log?actor={admin_user.pk}").json()["results"]
    exports = admin_client.get("/api/audit-log?target_type=export").json()["results"]
    future = admin_client.get("/api/audit-log?from=2100-01-01T00:00:00Z").json()["results"]
    first = admin_client.get("/api/audit-log?limit=2").json()
    rest = admin_client.get(first["next"]).json()

    assert [e["action"] for e in everything] == [
        audit.AI_AUTO_REPLY_SENT,
        audit.EXPORT_DOWNLOADED,
        audit.SIGN_IN,
    ]
    assert [e["actor"]["user"]["id"] for e in signins] == [str(admin_user.pk)]
    assert [e["actor"]["type"] for e in by_system] == ["system"]
    assert len(by_admin) == 2
    assert exports[0]["target"] == {"type": "export", "id": "conversations.csv"}
    assert future == []
    assert len(first["results"]) == 2
    assert len(rest["results"]) == 1


@pytest.mark.parametrize(
    "query",
    [
        "action=nope",
        "actor=12",
        "from=yesterday",
        "unknown=1",
        "actor_type=robot",
        "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
    ],
)
def test_bad_filters_are_400(admin_client, query):
    response = admin_client.get(f"/api/audit-log?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_agents_may_not_read_it_and_outsiders_see_only_theirs(
    agent_client, outsider_client, admin_user, outsider, workspace
):
    _seed(workspace, admin_user, outsider)

    assert agent_client.get("/api/audit-log").status_code == 403
    theirs = outsider_client.get("/api/audit-log").json()["results"]
    assert [e["actor"]["user"]["id"] for e in theirs] == [str(outsider.pk)]


def test_keys_read_it_only_with_the_audit_scope(admin_user, outsider, workspace):
    _seed(workspace, admin_user, outsider)
    _, reader = services.api_key_create(by=admin_user, name="SIEM", scopes=["audit:read"])
    _, other = services.api_key_create(by=admin_user, name="CRM", scopes=["read"])

    allowed = APIClient(HTTP_X_API_KEY=reader).get("/api/audit-log?action=auth.sign_in")
    refused = APIClient(HTTP_X_API_KEY=other).get("/api/audit-log")

    assert allowed.status_code == 200
    assert len(allowed.json()["results"]) == 1
    assert refused.status_code == 403


def test_entries_older_than_the_retention_are_pruned(settings, workspace, admin_user):
    settings.AUDIT_LOG_RETENTION_DAYS = 30
    old = audit.record(action=audit.SIGN_IN, workspace_id=workspace.pk, actor=admin_user)
    AuditEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    recent = audit.record(action=audit.SIGN_IN, workspace_id=workspace.pk, actor=admin_user)

    assert prune_audit_log_task.delay().get() == 1
    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [recent.pk]


def test_operators_see_every_entry_in_the_admin_and_change_none(
    client, admin_user, outsider, workspace
):
    _seed(workspace, admin_user, outsider)
    audit.record(action=audit.SIGN_IN_FAILED, workspace_id=None, actor=None, data={"email": "x"})
    operator = UserFactory(workspace=None, is_staff=True, is_superuser=True, role="agent")
    client.force_login(operator)
    entry = AuditEntry.objects.filter(workspace=None).get()
    url = f"/admin/accounts/auditentry/{entry.pk}/"

    listed = client.get("/admin/accounts/auditentry/")

    assert listed.status_code == 200
    assert listed.context["cl"].result_count == 5
    assert client.get(f"{url}change/").status_code == 200
    assert client.get("/admin/accounts/auditentry/add/").status_code == 403
    assert client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"{url}change/", {"action": "edited"}).status_code == 403
    assert AuditEntry.objects.count() == 5


# --- the page ---------------------------------------------------------------------------------


def test_the_page_lists_and_filters_for_admins_only(
    client, admin_user, agent_user, outsider, workspace
):
    _seed(workspace, admin_user, outsider)

    client.force_login(admin_user)
    everything = client.get("/settings/audit-log/")
    exports = client.get("/settings/audit-log/?action=export.downloaded")
    bad = client.get("/settings/audit-log/?since=2026-02-02&until=2026-01-01")
    client.force_login(agent_user)
    refused = client.get("/settings/audit-log/")
    client.force_login(outsider)
    theirs = client.get("/settings/audit-log/")

    assert everything.status_code == 200
    assert len(everything.context["rows"]) == 3
    assert [row["entry"].action for row in exports.context["rows"]] == [audit.EXPORT_DOWNLOADED]
    assert bad.status_code == 400
    assert refused.status_code == 403
    assert len(theirs.context["rows"]) == 1
