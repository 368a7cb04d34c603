"""Outgoing webhooks against a local receiver that checks every signature: events from the core's
log become signed deliveries; timeouts and 5xx are retried with backoff; a delivery failing
for a whole day turns its endpoint off and tells the admins; admins redeliver by hand; private
targets are refused (SSRF); another workspace sees nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import audit
from accounts.models import AuditEntry
from accounts.services import api_key_create
from conversations.models import Event
from conversations.tests.factories import ConversationFactory
from outgoing_webhooks import services, signing
from outgoing_webhooks.models import WebhookDelivery, WebhookEndpoint
from outgoing_webhooks.tasks import dispatch_webhooks_task

pytestmark = pytest.mark.django_db

API = "/api/outgoing-webhooks"


def _subscribe(client, receiver, events=("message.created",)) -> dict:
    response = client.post(API, {"url": receiver.url, "events": list(events)}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    receiver.secret = body["secret"]
    return body


def _send_message(client, conversation, text="Hola") -> None:
    response = client.post(
        f"/api/conversations/{conversation.pk}/messages", {"content": text}, format="json"
    )
    assert response.status_code == 201, response.content


def _dispatch_and_send(django_capture_on_commit_callbacks) -> int:
    with django_capture_on_commit_callbacks(execute=True):
        return dispatch_webhooks_task.delay().get()


# --- subscribing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fd00::1]/hook",
        "http://0.0.0.0/hook",
        "ftp://203.0.113.10/hook",
        "http://user:pw@8.8.8.8/hook",
    ],
)
def test_private_loopback_and_link_local_targets_are_refused(admin_client, url):
    response = admin_client.post(API, {"url": url, "events": ["message.created"]}, format="json")

    assert response.status_code == 400
    assert "url" in response.json()["error"]["details"]
    assert WebhookEndpoint.objects.count() == 0


def test_a_public_address_is_accepted_and_the_secret_shown_once(admin_client):
    created = admin_client.post(
        API, {"url": "http://8.8.8.8/hook", "events": ["message.created"]}, format="json"
    )
    listed = admin_client.get(API)

    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    assert secret not in listed.content.decode()
    assert secret not in WebhookEndpoint.objects.values_list("signing", flat=True)[0]
    assert one_entry(audit.WEBHOOK_CREATED).data["events"] == ["message.created"]


def one_entry(action: str) -> AuditEntry:
    [entry] = AuditEntry.objects.filter(action=action)
    return entry


def test_agents_and_other_workspaces_reach_nothing(
    admin_client, agent_client, outsider_client, local
):
    endpoint = _subscribe(admin_client, local)
    url = f"{API}/{endpoint['id']}"

    agent = [agent_client.get(API).status_code, agent_client.patch(url, {}).status_code]
    outsider = [
        outsider_client.get(url).status_code,
        outsider_client.patch(url, {"is_active": False}, format="json").status_code,
        outsider_client.get(f"{url}/deliveries").status_code,
        outsider_client.delete(url).status_code,
    ]

    assert agent == [403, 403]
    assert outsider == [404, 404, 404, 404]
    assert outsider_client.get(API).json()["results"] == []
    assert WebhookEndpoint.objects.get().is_active is True


def test_keys_need_the_webhooks_scope(admin_user, local):
    _, reader = api_key_create(by=admin_user, name="CRM", scopes=["read"])
    _, manager = api_key_create(by=admin_user, name="Ops", scopes=["webhooks:admin"])
    body = {"url": local.url, "events": ["message.created"]}

    refused = APIClient(HTTP_X_API_KEY=reader).post(API, body, format="json")
    created = APIClient(HTTP_X_API_KEY=manager).post(API, body, format="json")

    assert refused.status_code == 403
    assert created.status_code == 201
    assert one_entry(audit.WEBHOOK_CREATED).actor_type == "api_key"


# --- delivering -----------------------------------------------------------------------------------


def test_events_are_delivered_signed_to_the_receiver(
    admin_client, workspace, local, django_capture_on_commit_callbacks
):
    conversation = ConversationFactory(workspace=workspace, status="active")
    endpoint = _subscribe(admin_client, local)

    _send_message(admin_client, conversation, "¿Llegó mi pedido?")
    sent = _dispatch_and_send(django_capture_on_commit_callbacks)

    assert sent == 1
    [request] = local.received
    assert request.verified
    body = json.loads(request.body)
    assert body["event"] == "message.created"
    assert body["id"] == request.headers["X-Flame-Webhook-Id"]
    assert body["workspace_id"] == str(workspace.pk)
    assert body["data"]["message"]["content"] == "¿Llegó mi pedido?"
    assert request.headers["X-Flame-Event"] == "message.created"
    assert abs(int(request.headers["X-Flame-Timestamp"]) - timezone.now().timestamp()) < 30
    # Only the subscribed event: the conversation's other events sent nothing.
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    log = admin_client.get(f"{API}/{endpoint['id']}/deliveries").json()["results"]
    assert [(d["status"], [t["status_code"] for t in d["tries"]]) for d in log] == [
        ("succeeded", [200])
    ]
    # A second dispatch reads nothing new and sends nothing twice.
    assert _dispatch_and_send(django_capture_on_commit_callbacks) == 0
    assert len(local.received) == 1


def test_assignments_and_status_changes_are_events_too(
    admin_client, admin_user, workspace, outsider, local, django_capture_on_commit_callbacks
):
    conversation = ConversationFactory(workspace=workspace, status="active")
    elsewhere = ConversationFactory(workspace=outsider.workspace, status="active")
    _subscribe(admin_client, local, events=["conversation.assigned", "conversation.status_changed"])
    url = f"/api/conversations/{conversation.pk}"

    admin_client.post(f"{url}/assign", {"agent_id": str(admin_user.pk)}, format="json")
    admin_client.post(f"{url}/status", {"status": "resolved"}, format="json")
    theirs = APIClient()
    theirs.force_authenticate(outsider)
    theirs.post(f"/api/conversations/{elsewhere.pk}/status", {"status": "resolved"}, format="json")
    _dispatch_and_send(django_capture_on_commit_callbacks)

    events = [json.loads(item.body) for item in local.received]
    assert [e["event"] for e in events] == ["conversation.assigned", "conversation.status_changed"]
    assert events[0]["data"]["activity"]["agent"]["id"] == str(admin_user.pk)
    assert events[1]["data"]["conversation_id"] == str(conversation.pk)
    assert all(item.verified for item in local.received)


def test_events_before_the_subscription_are_not_sent(
    admin_client, workspace, local, django_capture_on_commit_callbacks
):
    conversation = ConversationFactory(workspace=workspace, status="active")
    _send_message(admin_client, conversation, "before")
    Event.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    _subscribe(admin_client, local)

    _dispatch_and_send(django_capture_on_commit_callbacks)

    assert local.received == []


def _one_delivery(admin_client, workspace, local, django_capture_on_commit_callbacks):
    conversation = ConversationFactory(workspace=workspace, status="active")
    endpoint = _subscribe(admin_client, local)
    _send_message(admin_client, conversation)
    _dispatch_and_send(django_capture_on_commit_callbacks)
    return endpoint, WebhookDelivery.objects.get()


def test_5xx_and_timeouts_are_retried_with_backoff_until_delivered(
    admin_client, workspace, local, django_capture_on_commit_callbacks
):
    local.statuses = [500, 503]
    endpoint, delivery = _one_delivery(
        admin_client, workspace, local, django_capture_on_commit_callbacks
    )
    assert (delivery.status, delivery.last_status_code) == ("retrying", 500)
    first_wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=40) < first_wait < timedelta(seconds=80)

    # not due yet: nothing is sent
    assert services.delivery_attempt(delivery_id=delivery.pk) is None
    second = services.delivery_attempt(delivery_id=delivery.pk, now=delivery.next_attempt_at)
    assert (second.status, second.last_status_code) == ("retrying", 503)
    assert second.next_attempt_at - delivery.next_attempt_at > timedelta(minutes=3)

    local.delay = 1.0  # longer than the read timeout
    due = services.deliveries_due(now=second.next_attempt_at)
    third = services.delivery_attempt(delivery_id=due[0], now=second.next_attempt_at)
    assert (third.status, third.last_error) == ("retrying", "Timed out.")

    local.delay = 0
    fourth = services.delivery_attempt(delivery_id=delivery.pk, now=third.next_attempt_at)
    assert fourth.status == "succeeded"
    assert len(local.received) == 4
    assert set(local.ids()) == {str(delivery.pk)}  # one id: the receiver can deduplicate
    assert all(item.verified for item in local.received)
    log = admin_client.get(f"{API}/{endpoint['id']}/deliveries").json()["results"][0]["tries"]
    assert [t["status_code"] for t in log] == [500, 503, None, 200]
    assert log[2]["duration_ms"] >= 400


def test_a_4xx_is_not_retried(admin_client, workspace, local, django_capture_on_commit_callbacks):
    local.statuses = [410]
    _, delivery = _one_delivery(admin_client, workspace, local, django_capture_on_commit_callbacks)

    assert (delivery.status, delivery.last_error) == ("failed", "The receiver answered 410.")
    assert WebhookEndpoint.objects.get().is_active is True
    assert services.deliveries_due(now=timezone.now() + timedelta(days=2)) == []


def test_a_day_of_failures_turns_the_endpoint_off_and_tells_the_admins(
    admin_client, admin_user, workspace, local, django_capture_on_commit_callbacks
):
    workspace.language = "en"
    workspace.save(update_fields=["language"])
    local.statuses = [500] * 10
    endpoint, delivery = _one_delivery(
        admin_client, workspace, local, django_capture_on_commit_callbacks
    )
    later = delivery.created_at + timedelta(hours=23, minutes=59)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=later)

    with django_capture_on_commit_callbacks(execute=True):
        last = services.delivery_attempt(delivery_id=delivery.pk, now=later)

    assert last.status == "failed"
    stored = WebhookEndpoint.objects.get()
    assert stored.is_active is False
    assert stored.disabled_reason == "Every try failed for 24 hours."
    assert one_entry(audit.WEBHOOK_DISABLED).actor_type == "system"
    [notice] = mail.outbox
    assert notice.to == [admin_user.email]
    assert notice.subject == "FLAME: a webhook was turned off"  # in the workspace's language
    assert local.url in notice.body
    # Turned off: nothing more is sent, and redelivery asks to turn it on first.
    url = f"{API}/{endpoint['id']}/deliveries/{delivery.pk}/redeliver"
    assert admin_client.post(url).status_code == 400
    admin_client.patch(f"{API}/{endpoint['id']}", {"is_active": True}, format="json")
    assert WebhookEndpoint.objects.get().disabled_reason == ""


def test_admins_redeliver_by_hand(
    admin_client, outsider_client, workspace, local, django_capture_on_commit_callbacks
):
    endpoint, delivery = _one_delivery(
        admin_client, workspace, local, django_capture_on_commit_callbacks
    )
    url = f"{API}/{endpoint['id']}/deliveries/{delivery.pk}/redeliver"

    assert outsider_client.post(url).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url)

    assert response.status_code == 202
    assert local.ids() == [str(delivery.pk), str(delivery.pk)]
    assert all(item.verified for item in local.received)
    tries = admin_client.get(f"{API}/{endpoint['id']}/deliveries").json()["results"][0]["tries"]
    assert [(t["number"], t["manual"]) for t in tries] == [(1, False), (2, True)]
    assert one_entry(audit.WEBHOOK_REDELIVERED).data["delivery_id"] == str(delivery.pk)


def test_a_target_that_became_private_is_refused_when_sending(
    admin_client, workspace, local, settings, django_capture_on_commit_callbacks
):
    conversation = ConversationFactory(workspace=workspace, status="active")
    _subscribe(admin_client, local)
    _send_message(admin_client, conversation)
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = False

    _dispatch_and_send(django_capture_on_commit_callbacks)

    delivery = WebhookDelivery.objects.get()
    assert local.received == []
    assert delivery.status == "failed"
    assert delivery.last_error == "Private, loopback and link-local addresses are not allowed."


def test_the_signature_helper_a_receiver_would_use():
    body = b'{"id":"1"}'
    header = signing.signature("whsec_test", 1700000000, body)

    assert (
        header
        == "v1="
        + __import__("hmac").new(b"whsec_test", b"1700000000." + body, "sha256").hexdigest()
    )
    assert signing.verify("whsec_test", "1700000000", body, header)
    assert not signing.verify("whsec_test", "1700000001", body, header)
    assert not signing.verify("whsec_other", "1700000000", body, header)


def test_the_documented_check_accepts_a_real_delivery(
    admin_client, workspace, local, django_capture_on_commit_callbacks
):
    """docs/webhooks.md's snippet, run as a receiver would, on what FLAME sent."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    snippet = doc.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(snippet, namespace)  # our own documentation
    _one_delivery(admin_client, workspace, local, django_capture_on_commit_callbacks)
    [request] = local.received

    is_from_flame = namespace["is_from_flame"]
    assert is_from_flame(local.secret, request.headers, request.body)
    assert not is_from_flame(local.secret, request.headers, request.body + b" ")
    assert not is_from_flame("whsec_wrong", request.headers, request.body)
