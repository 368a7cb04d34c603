"""A conversation an agent starts from the API reaches the customer: the first message goes to
the platform (local Graph API / Bot API stand-ins), never fails with ``no_recipient``."""

from __future__ import annotations

import pytest

from conversations.models import Message
from integrations.tests.factories import IntegrationFactory
from integrations.tests.test_telegram import CHAT, TOKEN, sent_message
from integrations.tests.test_whatsapp import whatsapp_integration

pytestmark = pytest.mark.django_db

FIRST_WORDS = "Hola, le escribimos de la tienda por su pedido #8841."


def start_and_write(client, capture, **conversation) -> Message:
    created = client.post("/api/conversations", conversation, format="json")
    assert created.status_code == 201, created.content
    with capture(execute=True):
        sent = client.post(
            f"/api/conversations/{created.json()['id']}/messages",
            {"content": FIRST_WORDS},
            format="json",
        )
    assert sent.status_code == 201, sent.content
    return Message.objects.get(pk=sent.json()["id"])


def test_whatsapp_conversation_started_by_phone_refuses_free_text_before_sending(
    fake_api, admin_client, workspace, django_capture_on_commit_callbacks
):
    # The customer has not written: WhatsApp takes only a template (test_templates.py starts
    # one that way); free text is refused here instead of failing at Meta later.
    whatsapp = whatsapp_integration(workspace)
    created = admin_client.post(
        "/api/conversations",
        {
            "contact_name": "María José Peña",
            "contact_phone": "+52 1 55 8765 4321",
            "platform": "whatsapp",
            "integration_id": str(whatsapp.pk),
        },
        format="json",
    )
    assert created.status_code == 201, created.content

    with django_capture_on_commit_callbacks(execute=True):
        sent = admin_client.post(
            f"/api/conversations/{created.json()['id']}/messages",
            {"content": FIRST_WORDS},
            format="json",
        )

    assert sent.status_code == 409
    assert sent.json()["error"] == {
        "code": "reply_window_closed",
        "message": "The customer has not written on this channel yet: only an approved template "
        "can be sent until the customer writes.",
        "details": {"templates": True},
    }
    assert created.json()["messaging_window"] == {
        "limited": True,
        "open": False,
        "closes_at": None,
        "seconds_left": None,
        "human_agent": False,
        "templates": True,
    }
    assert Message.objects.count() == 0
    assert fake_api.calls == []


def test_telegram_conversation_started_with_the_chat_id_delivers_its_first_message(
    fake_api, admin_client, workspace, django_capture_on_commit_callbacks
):
    fake_api.respond("POST", r"/sendMessage$", body=sent_message(1301, text=FIRST_WORDS))
    telegram = IntegrationFactory(
        workspace=workspace, platform="telegram", credentials={"bot_token": TOKEN}
    )

    message = start_and_write(
        admin_client,
        django_capture_on_commit_callbacks,
        contact_name="Lucía Fernández",
        platform="telegram",
        integration_id=str(telegram.pk),
        contact_external_id=CHAT,
    )

    message.refresh_from_db()
    assert (message.status, message.error_code, message.external_id) == (
        "sent",
        "",
        f"{CHAT}:1301",
    )
    (call,) = fake_api.calls
    assert call.path == f"/bot{TOKEN}/sendMessage"
    assert (str(call.body["chat_id"]), call.body["text"]) == (CHAT, FIRST_WORDS)
