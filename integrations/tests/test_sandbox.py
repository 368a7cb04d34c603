from __future__ import annotations

import pytest

from conversations.models import Conversation, Message
from integrations.models import WebhookEvent
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(workspace):
    return IntegrationFactory(
        workspace=workspace, platform="sandbox", external_account_id="sandbox-a"
    )


def test_sandbox_message_lands_in_the_inbox(
    admin_client, sandbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/api/webhooks/sandbox/{sandbox.pk}",
            {"from": "+5215512345678", "name": "Cliente Prueba", "text": "Hola, ¿abren hoy?"},
            format="json",
        )

    assert response.status_code == 202
    event = WebhookEvent.objects.get()
    assert (event.status, event.items_count, event.integration_id) == ("processed", 1, sandbox.pk)
    message = Message.objects.get()
    assert (message.content, message.sender) == ("Hola, ¿abren hoy?", "user")
    conversation = Conversation.objects.get()
    assert (conversation.contact.name, conversation.platform) == ("Cliente Prueba", "sandbox")
    listed = admin_client.get("/api/conversations").json()["results"]
    assert [row["last_message"] for row in listed] == ["Hola, ¿abren hoy?"]


def test_same_text_twice_is_two_messages(admin_client, sandbox, django_capture_on_commit_callbacks):
    body = {"from": "+5215512345678", "text": "hola"}
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/api/webhooks/sandbox/{sandbox.pk}", body, format="json")
        admin_client.post(f"/api/webhooks/sandbox/{sandbox.pk}", body, format="json")

    assert Message.objects.count() == 2
    assert Conversation.objects.get().unread_count == 2


def test_sandbox_reply_is_sent(admin_client, sandbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            f"/api/webhooks/sandbox/{sandbox.pk}", {"from": "c1", "text": "hola"}, format="json"
        )
    conversation = Conversation.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        reply = admin_client.post(
            f"/api/conversations/{conversation.pk}/messages", {"content": "¡Hola!"}, format="json"
        )

    assert reply.json()["status"] == "queued"
    assert Message.objects.get(pk=reply.json()["id"]).status == "sent"


@pytest.mark.parametrize("body", [{}, {"from": "x"}, {"text": "hola"}, {"from": "x", "text": ""}])
def test_sandbox_bad_input_is_400(admin_client, sandbox, body):
    response = admin_client.post(f"/api/webhooks/sandbox/{sandbox.pk}", body, format="json")

    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0


def test_sandbox_of_another_workspace_is_404(outsider_client, sandbox):
    response = outsider_client.post(
        f"/api/webhooks/sandbox/{sandbox.pk}", {"from": "x", "text": "hola"}, format="json"
    )

    assert response.status_code == 404
    assert WebhookEvent.objects.count() == 0


def test_sandbox_needs_authentication(anonymous_client, sandbox):
    response = anonymous_client.post(
        f"/api/webhooks/sandbox/{sandbox.pk}", {"from": "x", "text": "h"}, format="json"
    )

    assert response.status_code == 401


def test_a_sender_longer_than_a_phone_number_is_400(admin_client, sandbox):
    response = admin_client.post(
        f"/api/webhooks/sandbox/{sandbox.pk}", {"from": "9" * 33, "text": "hola"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["sender"]
    assert WebhookEvent.objects.count() == 0
