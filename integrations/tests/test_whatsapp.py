"""WhatsApp webhooks through the real view: signed payload files, each delivered twice.

Every inbound case is posted three times: the file bytes, the identical bytes again (Meta's
retry, deduplicated on the body hash) and the same updates re-serialized and re-signed (a
retry re-batched by Meta, which goes all the way through parsing and ingestion). The database
must look the same after the first delivery and after the last.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conversations.models import Contact, ContactIdentity, Conversation, Event, Message
from conversations.services import OutboundDraft, message_mark_sent, message_send_agent
from integrations.models import Integration, WebhookEvent
from integrations.tests.conftest import meta_signature
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

PAYLOADS = Path(__file__).parent / "payloads" / "whatsapp"
WEBHOOK_URL = "/api/webhooks/whatsapp"
PHONE_NUMBER_ID = "113948276501234"
APP_SECRET = "3f9c0e7d1b2a4c5d6e7f8091a2b3c4d5"
ACCESS_TOKEN = "EAAGm0PX4ZCpsBAtest-access-token"
VERIFY_TOKEN = "nogal-verify-2026"
CUSTOMER = "5215587654321"
CUSTOMER_BSUID = "MX.7302948811602759"
TEXT_ID = "wamid.HBgNNTIxNTU4NzY1NDMyMRUCABIYFDI3RkFGRDIxMzU1Nzk3NTk4RjA5AA=="
OUT1 = "wamid.HBgNNTIxNTU4NzY1NDMyMRUCABEYEjQ0QjU2RkY1QzlGNzBBRTI3NwA="
OUT2 = "wamid.HBgNNTIxNTU4NzY1NDMyMRUCABEYEkI3QzE5QTY0RDM2QzU0N0I4OQA="
TEXT = (
    "¡Hola! ¿Tienen disponible la mesa de café de nogal en tamaño pequeño? "
    "La necesito para el sábado 😊"
)
SENT_AT = "2026-09-15T14:30:05+00:00"


# --- helpers shared by the WhatsApp test modules -----------------------------------------------


def payload(name: str) -> bytes:
    return (PAYLOADS / f"{name}.json").read_bytes()


def whatsapp_integration(workspace, **overrides) -> Integration:
    credentials = {
        "access_token": ACCESS_TOKEN,
        "phone_number_id": PHONE_NUMBER_ID,
        "app_secret": APP_SECRET,
        "business_account_id": "104729835612345",
    }
    fields = {
        "workspace": workspace,
        "platform": "whatsapp",
        "external_account_id": PHONE_NUMBER_ID,
        "credentials": credentials,
        "verify_token": VERIFY_TOKEN,
        **overrides,
    }
    return IntegrationFactory(**fields)


def post_signed(client, body: bytes, *, secret: str = APP_SECRET):
    return client.post(
        WEBHOOK_URL,
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=meta_signature(body, secret),
    )


def deliver(client, capture, body: bytes):
    with capture(execute=True):
        response = post_signed(client, body)
    assert response.status_code == 200
    return response


def db_state() -> dict:
    return {
        "messages": list(
            Message.objects.order_by("created_at", "id").values(
                "id",
                "conversation_id",
                "sender",
                "type",
                "content",
                "media_url",
                "status",
                "error_code",
                "error_message",
                "external_id",
                "reply_to__external_id",
                "metadata",
                "is_edited",
                "is_deleted",
            )
        ),
        "contacts": list(Contact.objects.order_by("id").values("id", "name", "phone")),
        "identities": list(
            ContactIdentity.objects.order_by("external_id").values("external_id", "contact_id")
        ),
        "conversations": list(
            Conversation.objects.order_by("id").values(
                "id", "contact_id", "status", "message_count", "unread_count", "last_message"
            )
        ),
        "events": Event.objects.count(),
    }


def deliver_twice(client, capture, body: bytes) -> None:
    """Deliver, then redeliver as-is and re-batched: nothing may change after the first."""
    first = deliver(client, capture, body)
    state = db_state()
    assert first.json() == {"status": "ok", "duplicate": False}

    again = deliver(client, capture, body)
    assert again.json() == {"status": "ok", "duplicate": True}
    assert db_state() == state

    rebatched = json.dumps(json.loads(body), ensure_ascii=False).encode()
    deliver(client, capture, rebatched)
    assert db_state() == state


def base_metadata(platform_type: str) -> dict:
    return {
        "platform_type": platform_type,
        "platform_timestamp": SENT_AT,
        "wa_id": CUSTOMER,
        "user_id": CUSTOMER_BSUID,
    }


def customer_conversation(client, capture) -> Conversation:
    deliver(client, capture, payload("text"))
    return Conversation.objects.get()


def sent_reply(by, conversation: Conversation, external_id: str, content: str) -> Message:
    message = message_send_agent(
        by=by, conversation=conversation, draft=OutboundDraft(content=content)
    )
    message_mark_sent(message=message, external_id=external_id)
    return Message.objects.get(pk=message.pk)


@pytest.fixture
def whatsapp(workspace, settings):
    settings.META_APP_SECRET = ""
    return whatsapp_integration(workspace)


@pytest.fixture
def replied(whatsapp, client, admin_user, django_capture_on_commit_callbacks):
    """Customer A wrote (TEXT_ID) and we answered twice (OUT1, OUT2)."""
    conversation = customer_conversation(client, django_capture_on_commit_callbacks)
    sent_reply(admin_user, conversation, OUT1, "¡Hola María José! Sí, la tenemos.")
    sent_reply(admin_user, conversation, OUT2, "Te mando una nota de voz con los detalles.")
    return conversation


# --- inbound messages --------------------------------------------------------------------------


def test_text_message_creates_contact_conversation_and_message(
    client, whatsapp, django_capture_on_commit_callbacks
):
    deliver_twice(client, django_capture_on_commit_callbacks, payload("text"))

    message = Message.objects.get()
    assert (message.sender, message.type, message.content, message.status) == (
        "user",
        "text",
        TEXT,
        "delivered",
    )
    assert message.external_id == TEXT_ID
    assert message.metadata == base_metadata("text")
    identity = ContactIdentity.objects.get()
    assert (identity.external_id, identity.integration_id) == (CUSTOMER, whatsapp.pk)
    assert (identity.contact.name, identity.contact.phone) == ("María José Peña", "+5215587654321")
    conversation = Conversation.objects.get()
    assert (conversation.platform, conversation.message_count, conversation.unread_count) == (
        "whatsapp",
        1,
        1,
    )
    assert WebhookEvent.objects.filter(status="processed", items_count=1).count() == 2


MEDIA_CASES = [
    (
        "image",
        "image",
        "¿La tienen en este tono de gris?",
        "https://lookaside.fbsbx.com/whatsapp_business/attachments/"
        "?mid=1044837291038475&ext=1789482700&hash=ATuXmZk9",
        {
            "media_id": "1044837291038475",
            "mime_type": "image/jpeg",
            "sha256": "7JDTM6dlqjWRpsbg9ZTCwyZ8cgpE7oNpzcUxhEsCjVw=",
            "caption": "¿La tienen en este tono de gris?",
        },
    ),
    (
        "video",
        "video",
        "Así quedó la mesa en la sala",
        "",
        {
            "media_id": "1290384756102938",
            "mime_type": "video/mp4",
            "sha256": "Qm1YhI3z7aZ2x8mRZrT3nq0cA4bJ5vW6yXo9pLkUeFs=",
            "caption": "Así quedó la mesa en la sala",
        },
    ),
    (
        "audio",
        "audio",
        "",
        "",
        {
            "media_id": "892736451029384",
            "mime_type": "audio/ogg; codecs=opus",
            "sha256": "b4SsZ2N5dE1qYlB0WXhQd3F6cVZvQ2xJbnNIa1Z5OTg=",
            "voice": True,
        },
    ),
    (
        "document",
        "file",
        "Esta es la cotización que me enviaron",
        "",
        {
            "media_id": "1928374650192837",
            "mime_type": "application/pdf",
            "sha256": "eXo2dlR3c3FQbk1qUmJ6VkxLY2RvR2hOdXlBcFlYZWs=",
            "caption": "Esta es la cotización que me enviaron",
            "filename": "cotización mesa nogal.pdf",
        },
    ),
    (
        "sticker",
        "image",
        "",
        "",
        {
            "media_id": "776655443322110",
            "mime_type": "image/webp",
            "sha256": "TnpkQ2JWbHlSbVZwZVc1blQzSnBaMmx1WVd3PQo9PT0=",
        },
    ),
]


@pytest.mark.parametrize(("name", "message_type", "content", "media_url", "media"), MEDIA_CASES)
def test_media_message_keeps_media_id_and_caption(
    client,
    whatsapp,
    django_capture_on_commit_callbacks,
    name,
    message_type,
    content,
    media_url,
    media,
):
    deliver_twice(client, django_capture_on_commit_callbacks, payload(name))

    message = Message.objects.get()
    assert (message.type, message.content, message.media_url) == (message_type, content, media_url)
    assert message.metadata == {**base_metadata(name), **media}
    assert Conversation.objects.get().last_message == (content or f"[{message_type}]")


def test_location_message(client, whatsapp, django_capture_on_commit_callbacks):
    deliver_twice(client, django_capture_on_commit_callbacks, payload("location"))

    message = Message.objects.get()
    assert (message.type, message.content) == (
        "location",
        "19.4326077,-99.133208 Mueblería Nogal Centro Av. Juárez 58, Centro, Cuauhtémoc, CDMX",
    )
    assert message.metadata == {
        **base_metadata("location"),
        "latitude": "19.4326077",
        "longitude": "-99.133208",
        "name": "Mueblería Nogal Centro",
        "address": "Av. Juárez 58, Centro, Cuauhtémoc, CDMX",
        "url": "https://nogal.example/sucursales/centro",
    }


def test_shared_contact_cards_are_readable_unsupported_messages(
    client, whatsapp, django_capture_on_commit_callbacks
):
    deliver_twice(client, django_capture_on_commit_callbacks, payload("contacts"))

    message = Message.objects.get()
    assert (message.type, message.content) == (
        "unsupported",
        "Jorge Peña +52 1 55 4433 2211; Taller Ebanistería Ruiz +52 55 5566 7788",
    )
    assert message.metadata["shared_contacts"] == [
        {"name": "Jorge Peña", "phones": ["+52 1 55 4433 2211"]},
        {"name": "Taller Ebanistería Ruiz", "phones": ["+52 55 5566 7788"]},
    ]


@pytest.mark.parametrize(
    ("name", "content", "platform_type", "extra"),
    [
        (
            "interactive_button_reply",
            "Sí, el sábado",
            "interactive",
            {
                "interactive_type": "button_reply",
                "reply_id": "entrega-sabado",
                "reply_title": "Sí, el sábado",
            },
        ),
        (
            "interactive_list_reply",
            "Mesa nogal chica",
            "interactive",
            {
                "interactive_type": "list_reply",
                "reply_id": "mesa-nogal-chica",
                "reply_title": "Mesa nogal chica",
                "reply_description": "60 por 60 cm, entrega en 3 días",
            },
        ),
        (
            "button",
            "Confirmar pedido",
            "button",
            {"button_payload": "CONFIRMAR_PEDIDO_8841", "button_text": "Confirmar pedido"},
        ),
    ],
)
def test_button_and_list_replies_are_interactive_replies_to_our_message(
    client, replied, django_capture_on_commit_callbacks, name, content, platform_type, extra
):
    deliver_twice(client, django_capture_on_commit_callbacks, payload(name))

    answer = Message.objects.get(sender="user", type="interactive")
    assert answer.content == content
    assert answer.reply_to.external_id == OUT1
    assert answer.metadata == {**base_metadata(platform_type), **extra}


def test_reaction_is_stored_on_the_message_then_removed(
    client, replied, django_capture_on_commit_callbacks
):
    deliver_twice(client, django_capture_on_commit_callbacks, payload("reaction"))

    assert Message.objects.get(external_id=OUT1).metadata["reactions"] == {CUSTOMER: "❤️"}
    assert Message.objects.count() == 3  # a reaction is not a message

    deliver_twice(client, django_capture_on_commit_callbacks, payload("reaction_removed"))

    assert Message.objects.get(external_id=OUT1).metadata["reactions"] == {}
    assert Message.objects.count() == 3


def test_edit_replaces_the_text_and_keeps_the_previous_one(
    client, whatsapp, django_capture_on_commit_callbacks
):
    deliver(client, django_capture_on_commit_callbacks, payload("text"))

    deliver_twice(client, django_capture_on_commit_callbacks, payload("edit"))

    message = Message.objects.get()
    assert message.content == TEXT.replace("pequeño", "mediano")
    assert message.is_edited is True
    assert message.metadata["edits"] == [TEXT]


def test_revoke_marks_the_message_deleted_and_forgets_its_text(
    client, whatsapp, django_capture_on_commit_callbacks
):
    deliver(client, django_capture_on_commit_callbacks, payload("text"))

    deliver_twice(client, django_capture_on_commit_callbacks, payload("revoke"))

    message = Message.objects.get()
    assert (message.is_deleted, message.content) == (True, "")
    assert message.conversation.last_message == ""


def test_receipts_move_statuses_forward_and_played_counts_as_read(
    client, replied, django_capture_on_commit_callbacks
):
    deliver_twice(client, django_capture_on_commit_callbacks, payload("statuses"))

    statuses = dict(Message.objects.filter(sender="agent").values_list("external_id", "status"))
    assert statuses == {OUT1: "read", OUT2: "read"}


def test_failed_receipt_records_code_and_readable_reason(
    client, replied, django_capture_on_commit_callbacks
):
    deliver_twice(client, django_capture_on_commit_callbacks, payload("status_failed"))

    message = Message.objects.get(external_id=OUT2)
    assert (message.status, message.error_code) == ("failed", "131047")
    assert message.error_message == (
        "More than 24 hours since the customer last wrote: only a template can be sent. — "
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number."
    )
    assert Message.objects.get(external_id=OUT1).status == "sent"


def test_echo_of_our_own_send_is_not_stored_again(
    client, replied, django_capture_on_commit_callbacks
):
    before = db_state()

    deliver_twice(client, django_capture_on_commit_callbacks, payload("echo_ours"))

    assert db_state() == before


def test_echo_from_the_business_app_is_stored_once_as_an_agent_message(
    client, whatsapp, django_capture_on_commit_callbacks
):
    deliver(client, django_capture_on_commit_callbacks, payload("text"))

    deliver_twice(client, django_capture_on_commit_callbacks, payload("echo_from_phone"))

    echo = Message.objects.get(sender="agent")
    assert (echo.content, echo.status, echo.external_id) == (
        "Te la apartamos hasta el viernes, María José 🙌",
        "sent",
        "wamid.HBgNNTIxNTU4NzY1NDMyMRUCABEYEjdGMkE5QzE0RDZCODNFMDVBMQA=",
    )
    assert echo.metadata == {
        "platform_type": "text",
        "platform_timestamp": "2026-09-15T14:35:00+00:00",
        "user_id": CUSTOMER_BSUID,
        "origin": "echo",
    }
    conversation = Conversation.objects.get()
    assert (conversation.message_count, conversation.unread_count) == (2, 0)


def test_unsupported_message_keeps_the_error_and_the_kind(
    client, whatsapp, django_capture_on_commit_callbacks
):
    deliver_twice(client, django_capture_on_commit_callbacks, payload("unsupported"))

    message = Message.objects.get()
    assert (message.type, message.content) == ("unsupported", "")
    assert message.metadata == {
        **base_metadata("unsupported"),
        "unsupported_type": "poll_creation",
        "error_code": "131051",
        "error_message": "This message type is not supported. — "
        "Message type is currently not supported.",
    }


def test_unknown_message_type_is_stored_as_unsupported_with_its_raw_type(
    client, whatsapp, django_capture_on_commit_callbacks
):
    deliver_twice(client, django_capture_on_commit_callbacks, payload("unknown_type"))

    message = Message.objects.get()
    assert (message.type, message.content) == ("unsupported", "Quiero estas dos")
    assert message.metadata == base_metadata("order")


def test_customer_known_only_by_bsuid_is_keyed_on_it(
    client, whatsapp, django_capture_on_commit_callbacks
):
    deliver_twice(client, django_capture_on_commit_callbacks, payload("bsuid_only"))

    identity = ContactIdentity.objects.get()
    assert identity.external_id == "MX.5550001112223334"
    assert (identity.contact.name, identity.contact.phone) == ("Lucía", "")
    assert Message.objects.get().metadata == {
        "platform_type": "text",
        "platform_timestamp": SENT_AT,
        "user_id": "MX.5550001112223334",
        "username": "lucia.nogal",
    }


def test_batch_applies_every_entry_change_and_message(
    client, replied, django_capture_on_commit_callbacks
):
    deliver_twice(client, django_capture_on_commit_callbacks, payload("batch"))

    inbound = Message.objects.filter(sender="user").order_by("created_at", "id")
    assert [(m.conversation.contact.name, m.type, m.content) for m in inbound] == [
        ("María José Peña", "text", TEXT),
        ("María José Peña", "text", "Perfecto, paso el sábado a las 11."),
        ("Carlos Ruíz", "image", ""),
        ("Lucía", "text", "¿Y aceptan tarjeta?"),
    ]
    assert sorted(ContactIdentity.objects.values_list("external_id", flat=True)) == [
        "5215511112222",
        CUSTOMER,
        "MX.5550001112223334",
    ]
    assert Conversation.objects.count() == 3
    assert Message.objects.get(external_id=OUT1).status == "delivered"
    assert WebhookEvent.objects.filter(items_count=4).count() == 2


@pytest.mark.parametrize("name", ["unknown_account", "ignored_fields"])
def test_unknown_account_and_other_fields_are_acknowledged_and_ignored(
    client, whatsapp, django_capture_on_commit_callbacks, name
):
    deliver_twice(client, django_capture_on_commit_callbacks, payload(name))

    assert list(WebhookEvent.objects.values_list("status", flat=True)) == ["ignored", "ignored"]
    assert (Message.objects.count(), Contact.objects.count()) == (0, 0)


# --- authenticity and limits -------------------------------------------------------------------


def assert_nothing_stored() -> None:
    assert (WebhookEvent.objects.count(), Message.objects.count()) == (0, 0)


def test_forged_signature_is_refused(client, whatsapp):
    response = post_signed(client, payload("text"), secret="not-the-app-secret")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "signature_invalid"
    assert_nothing_stored()


def test_reserialized_body_with_the_original_signature_is_refused(client, whatsapp):
    original = payload("text")
    reserialized = json.dumps(json.loads(original)).encode()

    response = client.post(
        WEBHOOK_URL,
        data=reserialized,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=meta_signature(original, APP_SECRET),
    )

    assert reserialized != original
    assert response.status_code == 403
    assert_nothing_stored()


def test_missing_signature_is_refused(client, whatsapp):
    response = client.post(WEBHOOK_URL, data=payload("text"), content_type="application/json")

    assert response.status_code == 401
    assert_nothing_stored()


def test_body_signed_by_another_tenant_cannot_write_into_this_inbox(
    client, whatsapp, outsider, django_capture_on_commit_callbacks
):
    other_secret = "b-tenant-app-secret"
    whatsapp_integration(
        outsider.workspace,
        external_account_id="220011223344556",
        credentials={
            "access_token": "EAAG-other",
            "phone_number_id": "220011223344556",
            "app_secret": other_secret,
        },
        verify_token="other-verify",
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(client, payload("text"), secret=other_secret)

    assert response.status_code == 200
    assert WebhookEvent.objects.get().status == "ignored"
    assert Message.objects.count() == 0


@pytest.mark.parametrize(
    ("token", "status", "text"),
    [(VERIFY_TOKEN, 200, "1158201444"), ("wrong-token", 403, None)],
)
def test_verification_handshake(client, whatsapp, token, status, text):
    response = client.get(
        WEBHOOK_URL,
        {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": token},
    )

    assert response.status_code == status
    if text is not None:
        assert (response.content.decode(), response["Content-Type"]) == (text, "text/plain")


def padded_text_body(size: int) -> bytes:
    """A valid text-message body of exactly ``size`` bytes (padding in an unknown key)."""
    body = json.loads(payload("text"))
    body["entry"][0]["changes"][0]["value"]["padding"] = ""
    empty = len(json.dumps(body).encode())
    body["entry"][0]["changes"][0]["value"]["padding"] = "x" * (size - empty)
    return json.dumps(body).encode()


def test_body_over_3_mb_is_refused_with_413(client, whatsapp):
    body = padded_text_body(3 * 1024 * 1024 + 1)

    response = post_signed(client, body)

    assert response.status_code == 413
    assert_nothing_stored()


def test_signed_body_of_2_9_mb_is_accepted_and_processed(
    client, whatsapp, django_capture_on_commit_callbacks
):
    body = padded_text_body(int(2.9 * 1024 * 1024))

    deliver(client, django_capture_on_commit_callbacks, body)

    assert len(body) == int(2.9 * 1024 * 1024)
    assert WebhookEvent.objects.get().status == "processed"
    assert Message.objects.get().content == TEXT


def test_malformed_json_with_a_valid_signature_is_recorded_failed(
    client, whatsapp, django_capture_on_commit_callbacks
):
    body = payload("text")[:-7]

    deliver(client, django_capture_on_commit_callbacks, body)

    event = WebhookEvent.objects.get()
    assert event.status == "failed"
    assert event.error.startswith("Malformed body: ")
    assert (Message.objects.count(), Contact.objects.count(), Event.objects.count()) == (0, 0, 0)
