from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from assistants.tests.factories import AssistantFactory
from conversations import services as conversation_services
from conversations.models import Message
from conversations.tests.factories import ConversationFactory
from flame import crypto
from integrations import ingest
from integrations.models import Integration, WebhookEvent
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

WHATSAPP_CREDENTIALS = {
    "access_token": "EAAG-canary-token-123",
    "phone_number_id": "113948276501234",
    "app_secret": "canary-app-secret",
    "verify_token": "paste-me-into-meta",
}


def _create(client, **overrides):
    body = {"platform": "whatsapp", "name": "Ventas WhatsApp", "credentials": WHATSAPP_CREDENTIALS}
    body.update(overrides)
    return client.post("/api/integrations", body, format="json")


def test_create_never_returns_credentials(admin_client):
    response = _create(admin_client)

    assert response.status_code == 201
    body = response.json()
    text = json.dumps(body)
    assert "canary" not in text
    assert body["credentials_set"] == sorted(WHATSAPP_CREDENTIALS)
    assert body["external_account_id"] == "113948276501234"
    assert body["verify_token"] == "paste-me-into-meta"
    assert body["webhook_url"] == "http://127.0.0.1:8000/api/webhooks/whatsapp"
    assert body["status"] == "inactive"


def test_credentials_are_encrypted_at_rest(admin_client):
    integration_id = _create(admin_client).json()["id"]

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT credentials FROM integrations_integration WHERE id = %s",
            [integration_id.replace("-", "") if connection.vendor == "sqlite" else integration_id],
        )
        (raw,) = cursor.fetchone()

    assert raw.startswith("v1:")
    assert "canary" not in raw
    assert Integration.objects.get().credentials == WHATSAPP_CREDENTIALS


def test_telegram_gets_a_secret_token_and_a_tokenless_webhook_url(admin_client):
    response = _create(
        admin_client,
        platform="telegram",
        name="Bot",
        credentials={"bot_token": "123456789:AAH-canary-bot-token-abcdefghijkl"},
    )

    body = response.json()
    integration = Integration.objects.get()
    assert response.status_code == 201
    assert len(integration.credentials["secret_token"]) >= 32
    assert body["external_account_id"] == "123456789"
    assert body["webhook_url"].startswith("http://127.0.0.1:8000/api/webhooks/telegram/")
    assert "canary" not in body["webhook_url"]
    assert body["verify_token"] is None


@pytest.mark.parametrize(
    ("credentials", "message"),
    [
        ({"access_token": "x", "app_secret": "y"}, "Missing: phone_number_id."),
        ({**WHATSAPP_CREDENTIALS, "password": "x"}, "Unknown field(s): password."),
    ],
)
def test_bad_credentials_are_400(admin_client, credentials, message):
    response = _create(admin_client, credentials=credentials)

    assert response.status_code == 400
    assert response.json()["error"]["details"]["credentials"] == [message]
    assert Integration.objects.count() == 0


def test_same_account_in_two_workspaces_is_409(admin_client, outsider_client):
    assert _create(admin_client).status_code == 201

    response = _create(outsider_client)

    assert response.status_code == 409
    assert Integration.objects.count() == 1


def test_update_merges_credentials_and_default_assistant(admin_client, workspace):
    integration_id = _create(admin_client).json()["id"]
    assistant = AssistantFactory(workspace=workspace)

    response = admin_client.patch(
        f"/api/integrations/{integration_id}",
        {"credentials": {"access_token": "EAAG-new"}, "default_assistant_id": str(assistant.pk)},
        format="json",
    )

    assert response.status_code == 200
    integration = Integration.objects.get()
    assert integration.credentials == {**WHATSAPP_CREDENTIALS, "access_token": "EAAG-new"}
    assert integration.default_assistant_id == assistant.pk


def test_foreign_default_assistant_is_400(admin_client, outsider):
    foreign = AssistantFactory(workspace=outsider.workspace)

    response = _create(admin_client, default_assistant_id=str(foreign.pk))

    assert response.status_code == 400
    assert Integration.objects.count() == 0


def test_sandbox_connects_and_reports_status(admin_client):
    integration_id = _create(
        admin_client, platform="sandbox", name="Pruebas", credentials={}
    ).json()["id"]

    connected = admin_client.post(f"/api/integrations/{integration_id}/connect")
    status = admin_client.get(f"/api/integrations/{integration_id}/status")
    disconnected = admin_client.post(f"/api/integrations/{integration_id}/disconnect")

    assert connected.json()["webhook_url"] == (
        f"http://127.0.0.1:8000/api/webhooks/sandbox/{integration_id}"
    )
    assert connected.json()["status"] == "active"
    assert status.json()["counts"]["conversations"] == 0
    assert set(status.json()) == {"status", "last_webhook_at", "last_sync", "last_error", "counts"}
    assert disconnected.json()["status"] == "inactive"


def test_delete_with_conversations_is_409(admin_client, workspace):
    integration = IntegrationFactory(workspace=workspace)
    ConversationFactory(workspace=workspace, integration=integration)

    response = admin_client.delete(f"/api/integrations/{integration.pk}")

    assert response.status_code == 409
    assert Integration.objects.filter(pk=integration.pk).exists()


def test_delete_unused(admin_client, workspace):
    integration = IntegrationFactory(workspace=workspace)

    assert admin_client.delete(f"/api/integrations/{integration.pk}").status_code == 204
    assert not Integration.objects.exists()


@pytest.mark.parametrize("persona_client", ["agent_client", "outsider_client"])
def test_agents_and_outsiders_cannot_touch_integrations(request, workspace, persona_client):
    integration = IntegrationFactory(workspace=workspace, name="Original")
    client = request.getfixturevalue(persona_client)
    expected = 403 if persona_client == "agent_client" else 404
    url = f"/api/integrations/{integration.pk}"

    responses = [
        client.get(url),
        client.patch(url, {"name": "Hacked"}, format="json"),
        client.post(f"{url}/connect"),
        client.post(f"{url}/disconnect"),
        client.get(f"{url}/status"),
        client.delete(url),
    ]

    assert [r.status_code for r in responses] == [expected] * 6
    integration.refresh_from_db()
    assert (integration.name, integration.status) == ("Original", "active")
    listing = client.get("/api/integrations")
    assert listing.status_code == 403 or listing.json()["results"] == []


# --- webhook operations ---


def _event(workspace, integration, status="failed", **fields):
    return WebhookEvent.objects.create(
        platform=integration.platform,
        integration=integration,
        workspace=workspace,
        verified_integration_ids=[str(integration.pk)],
        body=b'{"from": "x", "text": "hola", "id": "1"}',
        body_sha256=f"sha-{WebhookEvent.objects.count()}",
        status=status,
        **fields,
    )


def test_stats_per_platform(admin_client, workspace, outsider):
    sandbox = IntegrationFactory(workspace=workspace, platform="sandbox")
    now = timezone.now()
    for status in ("processed", "processed", "failed", "ignored", "received"):
        _event(
            workspace,
            sandbox,
            status=status,
            received_at=now - timedelta(seconds=2),
            processed_at=now,
        )
    _event(outsider.workspace, IntegrationFactory(workspace=outsider.workspace, platform="sandbox"))

    response = admin_client.get("/api/webhooks/stats")

    assert response.status_code == 200
    (row,) = response.json()
    assert {
        k: row[k] for k in ("platform", "received", "processed", "failed", "ignored", "pending")
    } == {
        "platform": "sandbox",
        "received": 5,
        "processed": 2,
        "failed": 1,
        "ignored": 1,
        "pending": 1,
    }
    assert row["median_processing_ms"] == pytest.approx(2000, abs=50)


def test_retry_requeues_only_own_failed_events(
    admin_client, workspace, outsider, django_capture_on_commit_callbacks
):
    sandbox = IntegrationFactory(
        workspace=workspace, platform="sandbox", external_account_id="sb-1"
    )
    mine = _event(workspace, sandbox)
    theirs = _event(
        outsider.workspace, IntegrationFactory(workspace=outsider.workspace, platform="sandbox")
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/api/webhooks/retry", {}, format="json")

    assert response.json() == {"retried": 1}
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == "processed"
    assert Message.objects.get().content == "hola"
    assert theirs.status == "failed"


def test_webhook_operations_are_admin_only(agent_client, outsider_client):
    assert agent_client.get("/api/webhooks/stats").status_code == 403
    assert agent_client.post("/api/webhooks/retry", {}, format="json").status_code == 403
    assert outsider_client.get("/api/webhooks/stats").json() == []


def test_sweeper_requeues_stuck_events(workspace, django_capture_on_commit_callbacks):
    sandbox = IntegrationFactory(
        workspace=workspace, platform="sandbox", external_account_id="sb-2"
    )
    stuck = _event(
        workspace, sandbox, status="received", received_at=timezone.now() - timedelta(minutes=5)
    )
    crashed = _event(
        workspace,
        sandbox,
        status="processing",
        processing_started_at=timezone.now() - timedelta(minutes=30),
        received_at=timezone.now() - timedelta(minutes=30),
    )
    fresh = _event(workspace, sandbox, status="received")

    assert ingest.webhook_events_sweep() == 2

    # Where the database can skip locked rows, a worker takes other pending events along.
    batched = connection.features.has_select_for_update_skip_locked
    fresh_status = "processed" if batched else "received"
    for event, status in ((stuck, "processed"), (crashed, "processed"), (fresh, fresh_status)):
        event.refresh_from_db()
        assert event.status == status


def test_processing_twice_changes_nothing(workspace):
    sandbox = IntegrationFactory(
        workspace=workspace, platform="sandbox", external_account_id="sb-3"
    )
    event = _event(workspace, sandbox, status="received")

    first = ingest.webhook_event_process(event_id=event.pk)
    second = ingest.webhook_event_process(event_id=event.pk)
    WebhookEvent.objects.filter(pk=event.pk).update(status="received")  # a redelivered task
    third = ingest.webhook_event_process(event_id=event.pk)

    assert (first.status, second.status, third.status) == ("processed", "skipped", "processed")
    assert Message.objects.count() == 1


def test_malformed_body_is_recorded_failed(workspace):
    sandbox = IntegrationFactory(
        workspace=workspace, platform="sandbox", external_account_id="sb-4"
    )
    event = _event(workspace, sandbox, status="received")
    WebhookEvent.objects.filter(pk=event.pk).update(body=b"{not json")

    outcome = ingest.webhook_event_process(event_id=event.pk)

    event.refresh_from_db()
    assert (outcome.status, event.status) == ("failed", "failed")
    assert event.error.startswith("Malformed body")
    assert Message.objects.count() == 0


# --- failed message retry ---


def _failed_message(workspace, admin_user):
    sandbox = IntegrationFactory(workspace=workspace, platform="sandbox")
    conversation = ConversationFactory(workspace=workspace, integration=sandbox)
    message = conversation_services.message_send_agent(
        by=admin_user,
        conversation=conversation,
        draft=conversation_services.OutboundDraft(content="hola"),
    )
    conversation_services.message_update_status(
        message=message, status="failed", error_code="131047", error_message="Window closed"
    )
    return conversation, message


def test_retry_failed_message_really_sends(
    admin_client, admin_user, workspace, django_capture_on_commit_callbacks
):
    conversation, message = _failed_message(workspace, admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/api/conversations/{conversation.pk}/messages/{message.pk}/retry"
        )

    assert response.status_code == 200
    assert response.json()["status"] == "queued"
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("sent", "")


def test_retry_of_a_sent_message_is_409(
    admin_client, admin_user, workspace, django_capture_on_commit_callbacks
):
    conversation = ConversationFactory(workspace=workspace)
    message = conversation_services.message_send_agent(
        by=admin_user,
        conversation=conversation,
        draft=conversation_services.OutboundDraft(content="x"),
    )

    response = admin_client.post(
        f"/api/conversations/{conversation.pk}/messages/{message.pk}/retry"
    )

    assert response.status_code == 409


def test_outsider_cannot_retry(outsider_client, admin_user, workspace):
    conversation, message = _failed_message(workspace, admin_user)

    response = outsider_client.post(
        f"/api/conversations/{conversation.pk}/messages/{message.pk}/retry"
    )

    assert response.status_code == 404
    message.refresh_from_db()
    assert message.status == "failed"


# --- commands ---


def test_simulate_inbound_command(workspace, django_capture_on_commit_callbacks):
    IntegrationFactory(workspace=workspace, platform="sandbox", external_account_id="sb-5")

    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "simulate_inbound",
            "¿Tienen servicio a domicilio?",
            "--from",
            "+521555",
            "--name",
            "Pedro",
        )

    message = Message.objects.get()
    assert (message.content, message.conversation.contact.name) == (
        "¿Tienen servicio a domicilio?",
        "Pedro",
    )


def test_rotate_encryption_key(admin_client, settings, capsys):
    old = settings.ENCRYPTION_KEYS
    _create(admin_client)
    new_key = crypto.generate_key()
    settings.ENCRYPTION_KEYS = f"fresh:{new_key},{old}"

    call_command("rotate_encryption_key")

    settings.ENCRYPTION_KEYS = f"fresh:{new_key}"  # the old key is gone for good
    assert Integration.objects.get().credentials == WHATSAPP_CREDENTIALS
    assert "fresh" in capsys.readouterr().out
