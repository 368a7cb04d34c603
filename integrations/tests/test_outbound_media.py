"""Agents' files reach the customer through each platform's own API (local stand-ins of the
Graph API and the Bot API): WhatsApp uploads then sends by id, Telegram sends the file in the
request, Messenger attaches it to the send, Instagram fetches it from a signed link of ours.
The same retry and failure rules as text apply."""

from __future__ import annotations

import json
from contextlib import nullcontext

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from conversations.models import Message
from conversations.tests.media_samples import OGG, PDF, png
from integrations import delivery
from integrations.tests.factories import IntegrationFactory
from integrations.tests.test_messenger_support import (
    INSTAGRAM,
    MESSENGER,
    channel_integration,
    customer_conversation,
)
from integrations.tests.test_telegram import CHAT, SECRET, TOKEN, sent_message
from integrations.tests.test_whatsapp import PHONE_NUMBER_ID, whatsapp_integration
from integrations.tests.test_whatsapp_client import ACCEPTED, CUSTOMER, MESSAGES_PATH, OUT_ID

pytestmark = pytest.mark.django_db

PHOTO = png()
GRAPH = settings.GRAPH_API_VERSION
UPLOAD_PATH = rf"^/{GRAPH}/{PHONE_NUMBER_ID}/media$"
SEND_PATH = rf"^/{GRAPH}/me/messages$"


def send_file(client, conversation, data: bytes, name: str, mime: str, capture=None, **fields):
    """The agent's upload through the API; delivery runs when it commits (with ``capture``),
    else the test runs it."""
    file = SimpleUploadedFile(name, data, content_type=mime)
    with capture(execute=True) if capture else nullcontext():
        response = client.post(
            f"/api/conversations/{conversation.pk}/messages",
            {"file": file, **fields},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    return Message.objects.get(pk=response.json()["id"])


# --- WhatsApp: upload, then send by id -----------------------------------------------------------


@pytest.fixture
def whatsapp_chat(workspace):
    return customer_conversation(whatsapp_integration(workspace), CUSTOMER)


def test_whatsapp_uploads_the_file_then_sends_it_by_id(
    fake_api, admin_client, whatsapp_chat, django_capture_on_commit_callbacks
):
    fake_api.respond("POST", UPLOAD_PATH, body={"id": "1650398211992247"})
    fake_api.respond("POST", MESSAGES_PATH, body=ACCEPTED)

    message = send_file(
        admin_client,
        whatsapp_chat,
        PHOTO,
        "mesa-gris.png",
        "image/png",
        django_capture_on_commit_callbacks,
        content="Así se ve en gris",
    )

    upload, send = fake_api.calls
    form = upload.form()
    assert (form["messaging_product"].value, form["type"].value) == ("whatsapp", "image/png")
    assert (form["file"].filename, form["file"].content_type, form["file"].content) == (
        "mesa-gris.png",
        "image/png",
        PHOTO,
    )
    assert send.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "image",
        "image": {"id": "1650398211992247", "caption": "Así se ve en gris"},
    }
    message.refresh_from_db()
    assert (message.status, message.external_id) == ("sent", OUT_ID)


def test_whatsapp_document_keeps_its_name(
    fake_api, admin_client, whatsapp_chat, django_capture_on_commit_callbacks
):
    fake_api.respond("POST", UPLOAD_PATH, body={"id": "77"})
    fake_api.respond("POST", MESSAGES_PATH, body=ACCEPTED)

    send_file(
        admin_client,
        whatsapp_chat,
        PDF,
        "cotizacion-8841.pdf",
        "application/pdf",
        django_capture_on_commit_callbacks,
    )

    send = fake_api.calls[1]
    assert (send.body["type"], send.body["document"]) == (
        "document",
        {"id": "77", "filename": "cotizacion-8841.pdf"},
    )


def test_a_failed_whatsapp_upload_is_retried_and_nothing_was_sent(
    fake_api, admin_client, whatsapp_chat, admin_user
):
    fake_api.respond("POST", UPLOAD_PATH, status=503, body={})
    message = send_file(admin_client, whatsapp_chat, PHOTO, "a.png", "image/png")

    outcome = delivery.message_deliver(message_id=str(message.pk))

    assert (outcome.status, outcome.next_attempt) == ("retrying", 1)
    assert [call.path for call in fake_api.calls] == [f"/{GRAPH}/{PHONE_NUMBER_ID}/media"]
    message.refresh_from_db()
    assert message.status == "queued"


def test_a_send_that_times_out_after_the_upload_is_not_resent(
    fake_api, admin_client, whatsapp_chat
):
    fake_api.respond("POST", UPLOAD_PATH, body={"id": "77"})
    fake_api.respond("POST", MESSAGES_PATH, body=ACCEPTED, delay=1.5)
    message = send_file(admin_client, whatsapp_chat, PHOTO, "a.png", "image/png")

    outcome = delivery.message_deliver(message_id=str(message.pk))

    assert outcome == delivery.Outcome(status="failed")
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", "timeout_unconfirmed")


# --- Telegram: the file in the request -----------------------------------------------------------


@pytest.fixture
def telegram_chat(workspace):
    telegram = IntegrationFactory(
        workspace=workspace,
        platform="telegram",
        external_account_id="7012345678",
        credentials={"bot_token": TOKEN, "secret_token": SECRET},
    )
    return customer_conversation(telegram, CHAT)


@pytest.mark.parametrize(
    ("data", "name", "mime", "method", "field", "caption"),
    [
        (PHOTO, "azul.png", "image/png", "sendPhoto", "photo", "¿Este azul?"),
        (OGG, "nota.ogg", "audio/ogg", "sendVoice", "voice", ""),
        (PDF, "factura.pdf", "application/pdf", "sendDocument", "document", "Tu factura"),
    ],
)
def test_telegram_sends_the_file_with_the_matching_method(
    fake_api,
    admin_client,
    telegram_chat,
    django_capture_on_commit_callbacks,
    data,
    name,
    mime,
    method,
    field,
    caption,
):
    fake_api.respond("POST", rf"/{method}$", body=sent_message(1310))

    message = send_file(
        admin_client,
        telegram_chat,
        data,
        name,
        mime,
        django_capture_on_commit_callbacks,
        **({"content": caption} if caption else {}),
    )

    (call,) = fake_api.calls
    form = call.form()
    assert call.path == f"/bot{TOKEN}/{method}"
    assert form["chat_id"].value == CHAT
    assert (form[field].filename, form[field].content) == (name, data)
    assert (form["caption"].value if "caption" in form else None) == (caption or None)
    message.refresh_from_db()
    assert (message.status, message.external_id) == ("sent", f"{CHAT}:1310")


# --- Messenger: the file attached to the send; Instagram: a signed link --------------------------


def test_messenger_attaches_the_file_to_the_send(
    fake_api, admin_client, workspace, django_capture_on_commit_callbacks
):
    page = channel_integration(workspace, MESSENGER)
    conversation = customer_conversation(page, MESSENGER.customer_id)
    fake_api.respond("POST", SEND_PATH, body={"recipient_id": "x", "message_id": "m_file"})

    message = send_file(
        admin_client,
        conversation,
        PDF,
        "factura.pdf",
        "application/pdf",
        django_capture_on_commit_callbacks,
    )

    (call,) = fake_api.calls
    form = call.form()
    assert json.loads(form["recipient"].value) == {"id": MESSENGER.customer_id}
    assert form["messaging_type"].value == "RESPONSE"
    assert json.loads(form["message"].value) == {
        "attachment": {"type": "file", "payload": {"is_reusable": True}},
        "metadata": str(message.pk),
    }
    assert (form["filedata"].filename, form["filedata"].content) == ("factura.pdf", PDF)
    message.refresh_from_db()
    assert (message.status, message.external_id) == ("sent", "m_file")


def test_messenger_refuses_a_caption_before_sending(admin_client, workspace):
    page = channel_integration(workspace, MESSENGER)
    conversation = customer_conversation(page, MESSENGER.customer_id)
    file = SimpleUploadedFile("a.png", PHOTO, content_type="image/png")

    response = admin_client.post(
        f"/api/conversations/{conversation.pk}/messages",
        {"file": file, "content": "Mira"},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "file": ["Messenger image messages cannot carry text: send the text on its own."]
    }


def test_instagram_sends_a_signed_link_that_serves_the_file(
    fake_api, admin_client, workspace, django_capture_on_commit_callbacks, settings
):
    account = channel_integration(workspace, INSTAGRAM)
    conversation = customer_conversation(account, INSTAGRAM.customer_id)
    fake_api.respond("POST", SEND_PATH, body={"recipient_id": "x", "message_id": "ig_file"})

    send_file(
        admin_client, conversation, PHOTO, "a.png", "image/png", django_capture_on_commit_callbacks
    )

    (call,) = fake_api.calls
    attachment = call.body["message"]["attachment"]
    url = attachment["payload"]["url"]
    assert attachment["type"] == "image"
    assert url.startswith(f"{settings.PUBLIC_BASE_URL}/media/s/")
    fetched = Client().get(url.removeprefix(settings.PUBLIC_BASE_URL))
    assert fetched.status_code == 200
    assert b"".join(fetched.streaming_content) == PHOTO
