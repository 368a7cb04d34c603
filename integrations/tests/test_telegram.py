"""Telegram: webhooks through the real view, sends and connection against a local Bot API."""

from __future__ import annotations

import json
import socket
import traceback
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings

from conversations.models import Contact, ContactIdentity, Conversation, Message
from conversations.services import (
    InboundMessage,
    OutboundDraft,
    message_mark_sent,
    message_store_outbound,
)
from conversations.tests.factories import ConversationFactory
from integrations import delivery, throttle
from integrations.inbound import customer_message_receive as message_receive_inbound
from integrations.models import Integration, WebhookEvent
from integrations.providers.base import CallbackAnswer, RateLimit, RetryableSendError, Routed
from integrations.providers.telegram import client as telegram_client
from integrations.providers.telegram import parse as telegram_parse
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

PAYLOADS = Path(__file__).parent / "payloads" / "telegram"
TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "tg-secret_9f8e7d6c5b4a"
CHAT = "5126743981"
NAME = "Lucía Fernández"
GREETING = "Hola, ¿me podéis decir si el pedido #8841 ya salió? Gracias 🙏"
BOT_QUESTION = "¿Te refieres al pedido #8841?"


@pytest.fixture
def telegram(workspace):
    return IntegrationFactory(
        workspace=workspace,
        platform="telegram",
        external_account_id="7012345678",
        credentials={"bot_token": TOKEN, "secret_token": SECRET},
    )


def payload(name: str) -> bytes:
    return (PAYLOADS / f"{name}.json").read_bytes()


def post_update(client, integration: Integration, body: bytes, **headers):
    headers.setdefault("HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN", SECRET)
    return client.post(
        f"/api/webhooks/telegram/{integration.webhook_secret}",
        data=body,
        content_type="application/json",
        **{name: value for name, value in headers.items() if value is not None},
    )


def snapshot() -> dict:
    messages = Message.objects.order_by("created_at", "id").values_list(
        "external_id",
        "sender",
        "type",
        "content",
        "media_url",
        "metadata",
        "reply_to__external_id",
        "is_edited",
        "status",
    )
    return {
        "contacts": list(Contact.objects.values_list("name", "phone")),
        "identities": list(ContactIdentity.objects.values_list("external_id", "metadata")),
        "conversations": list(
            Conversation.objects.values_list(
                "message_count", "unread_count", "last_message", "status"
            )
        ),
        "messages": list(messages),
        "events": list(WebhookEvent.objects.order_by("id").values_list("status", "items_count")),
    }


def deliver_twice(client, integration, body: bytes, capture) -> dict:
    """POST the update twice (Telegram retries until it gets a 2xx); the second changes nothing."""
    with capture(execute=True):
        first = post_update(client, integration, body)
    after_first = snapshot()
    with capture(execute=True):
        second = post_update(client, integration, body)
    assert (first.status_code, first.json()) == (200, {"status": "ok", "duplicate": False})
    assert (second.status_code, second.json()) == (200, {"status": "ok", "duplicate": True})
    assert snapshot() == after_first
    return after_first


def customer_greeting(integration) -> Message:
    """The customer's first message (1204), stored as ingestion would store it."""
    inbound = InboundMessage(
        external_contact_id=CHAT, external_id=f"{CHAT}:1204", content=GREETING, contact_name=NAME
    )
    return message_receive_inbound(integration=integration, inbound=inbound).message


@pytest.fixture
def bot_message(telegram) -> Message:
    """Our question (1209) in Lucía's chat, sent and acknowledged by Telegram."""
    greeting = customer_greeting(telegram)
    question = message_store_outbound(
        conversation=greeting.conversation,
        sender=Message.Sender.AGENT,
        draft=OutboundDraft(content=BOT_QUESTION),
    )
    message_mark_sent(message=question, external_id=f"{CHAT}:1209")
    return question


# --- customer messages ---------------------------------------------------------------------------


def at(seconds: int) -> str:
    return f"2026-09-15T14:30:{seconds:02d}+00:00"


def media(
    file_id: str, unique: str, *, mime: str = "", filename: str = "", caption: str = ""
) -> dict:
    return {
        "media_id": file_id,
        "file_unique_id": unique,
        "mime_type": mime,
        "filename": filename,
        "caption": caption,
    }


GIF = media(
    "CgACAAMCBAADGQEAAgSAgAD0A4AAhx9f2kq", "AgAD0A4AAh", mime="video/mp4", filename="gracias.mp4"
)
VENUE = {
    "latitude": 40.420177,
    "longitude": -3.705713,
    "name": "Tienda FLAME Gran Vía",
    "address": "Gran Vía 28, Madrid",
}

# payload → (external id, type, content, metadata)
CUSTOMER_MESSAGES = {
    "text_message": ("1204", "text", GREETING, {"platform_timestamp": at(5), "raw_type": "text"}),
    "photo_message": (
        "1210",
        "image",
        "¿Tenéis este modelo en azul?",
        {
            "platform_timestamp": at(11),
            "raw_type": "photo",
            **media(
                "AgACAAMCBAADGQEAAgSAQADs7kxG3x9f2kq",
                "AQADs7kxG3",
                caption="¿Tenéis este modelo en azul?",
            ),
        },
    ),
    "document_message": (
        "1211",
        "file",
        "La factura del pedido",
        {
            "platform_timestamp": at(12),
            "raw_type": "document",
            **media(
                "BQACAAMCBAADGQEAAgSAgADxQ4AAhx9f2kq",
                "AgADxQ4AAh",
                mime="application/pdf",
                filename="factura_8841.pdf",
                caption="La factura del pedido",
            ),
        },
    ),
    "voice_message": (
        "1212",
        "audio",
        "",
        {
            "platform_timestamp": at(13),
            "raw_type": "voice",
            **media("AwACAAMCBAADGQEAAgSAgADyw4AAhx9f2kq", "AgADyw4AAh", mime="audio/ogg"),
        },
    ),
    "audio_message": (
        "1213",
        "audio",
        "",
        {
            "platform_timestamp": at(14),
            "raw_type": "audio",
            **media(
                "CQACAAMCBAADGQEAAgSAgADzA4AAhx9f2kq",
                "AgADzA4AAh",
                mime="audio/mpeg",
                filename="despecha.mp3",
            ),
        },
    ),
    "video_message": (
        "1214",
        "video",
        "Así llegó la caja",
        {
            "platform_timestamp": at(15),
            "raw_type": "video",
            **media(
                "BAACAAMCBAADGQEAAgSAgADzQ4AAhx9f2kq",
                "AgADzQ4AAh",
                mime="video/mp4",
                filename="unboxing.mp4",
                caption="Así llegó la caja",
            ),
        },
    ),
    "video_note_message": (
        "1215",
        "video",
        "",
        {
            "platform_timestamp": at(16),
            "raw_type": "video_note",
            **media("DQACAAMCBAADGQEAAgSAgADzg4AAhx9f2kq", "AgADzg4AAh"),
        },
    ),
    "sticker_message": (
        "1216",
        "image",
        "",
        {
            "platform_timestamp": at(17),
            "raw_type": "sticker",
            "emoji": "👍",
            **media("CAACAAMCBAADGQEAAgSAgADzw4AAhx9f2kq", "AgADzw4AAh"),
        },
    ),
    "animation_message": (
        "1217",
        "video",
        "",
        {"platform_timestamp": at(18), "raw_type": "animation", **GIF},
    ),
    "location_message": (
        "1218",
        "location",
        "40.416775,-3.70379",
        {
            "platform_timestamp": at(19),
            "raw_type": "location",
            "latitude": 40.416775,
            "longitude": -3.70379,
            "name": "",
            "address": "",
        },
    ),
    "venue_message": (
        "1219",
        "location",
        "40.420177,-3.705713 Tienda FLAME Gran Vía Gran Vía 28, Madrid",
        {
            "platform_timestamp": at(20),
            "raw_type": "venue",
            **VENUE,
        },
    ),
    "contact_message": (
        "1220",
        "text",
        "Lucía Fernández +34600111222",
        {
            "platform_timestamp": at(21),
            "raw_type": "contact",
            "shared_contact": {
                "phone_number": "+34600111222",
                "first_name": "Lucía",
                "last_name": "Fernández",
                "user_id": 5126743981,
            },
        },
    ),
    "dice_message": ("1221", "unsupported", "", {"platform_timestamp": at(22), "raw_type": "dice"}),
    "poll_message": ("1222", "unsupported", "", {"platform_timestamp": at(23), "raw_type": "poll"}),
}


@pytest.mark.parametrize("name", list(CUSTOMER_MESSAGES))
def test_customer_message_is_stored_once(
    client, telegram, django_capture_on_commit_callbacks, name
):
    message_id, kind, content, metadata = CUSTOMER_MESSAGES[name]

    state = deliver_twice(client, telegram, payload(name), django_capture_on_commit_callbacks)

    # Lucía shared her own card: the one time Telegram tells us a phone number.
    phone = "+34600111222" if name == "contact_message" else ""
    assert state["contacts"] == [(NAME, phone)]
    # The chat's @username is kept on the customer's identity.
    assert state["identities"] == [(CHAT, {"username": "lucia_fdz"})]
    assert state["messages"] == [
        (f"{CHAT}:{message_id}", "user", kind, content, "", metadata, None, False, "delivered")
    ]
    assert state["conversations"] == [(1, 1, content or f"[{kind}]", "active")]
    assert state["events"] == [("processed", 1)]


@pytest.mark.parametrize(
    "name", ["photo_message", "reply_message", "edited_message", "reaction_added", "callback_query"]
)
def test_redelivery_under_a_new_update_id_changes_nothing(
    client, telegram, bot_message, fake_api, django_capture_on_commit_callbacks, name
):
    # Not byte-identical, so the body dedupe lets it through: the items themselves must be
    # idempotent on their Telegram ids.
    fake_api.respond("POST", r"/answerCallbackQuery$", body={"ok": True, "result": True})
    update = json.loads(payload(name))
    with django_capture_on_commit_callbacks(execute=True):
        post_update(client, telegram, payload(name))
    before = snapshot()

    resent = json.dumps({**update, "update_id": update["update_id"] + 1000}).encode()
    with django_capture_on_commit_callbacks(execute=True):
        post_update(client, telegram, resent)

    after = snapshot()
    assert after.pop("events") == before.pop("events") * 2
    assert after == before


def test_reply_points_at_our_message(
    client, telegram, bot_message, django_capture_on_commit_callbacks
):
    deliver_twice(client, telegram, payload("reply_message"), django_capture_on_commit_callbacks)

    reply = Message.objects.get(external_id=f"{CHAT}:1223")
    assert (reply.content, reply.reply_to_id) == ("Sí, ese mismo", bot_message.pk)
    assert Message.objects.count() == 3


def test_edit_replaces_the_text(client, telegram, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_update(client, telegram, payload("text_message"))

    deliver_twice(client, telegram, payload("edited_message"), django_capture_on_commit_callbacks)

    message = Message.objects.get()
    assert (message.external_id, message.is_edited) == (f"{CHAT}:1204", True)
    assert message.content == "Hola, ¿me podéis decir si el pedido #8842 ya salió? Gracias 🙏"
    assert message.metadata["edits"] == [GREETING]
    assert Conversation.objects.get().message_count == 1


def test_button_press_is_stored_and_answered(
    client, telegram, bot_message, fake_api, django_capture_on_commit_callbacks
):
    fake_api.respond("POST", r"/answerCallbackQuery$", body={"ok": True, "result": True})

    deliver_twice(client, telegram, payload("callback_query"), django_capture_on_commit_callbacks)

    press = Message.objects.get(external_id="callback:2201884630519876543")
    assert (press.sender, press.type, press.content) == ("user", "interactive", "order:8841:yes")
    assert press.reply_to_id == bot_message.pk
    assert press.metadata == {
        "raw_type": "callback_query",
        "callback_data": "order:8841:yes",
        "callback_id": "2201884630519876543",
    }
    calls = fake_api.calls_to(r"/answerCallbackQuery$")
    assert [(c.path, c.body) for c in calls] == [
        (f"/bot{TOKEN}/answerCallbackQuery", {"callback_query_id": "2201884630519876543"})
    ]


def test_reaction_is_added_then_removed(
    client, telegram, bot_message, django_capture_on_commit_callbacks
):
    deliver_twice(client, telegram, payload("reaction_added"), django_capture_on_commit_callbacks)
    bot_message.refresh_from_db()
    assert bot_message.metadata["reactions"] == {CHAT: "❤"}

    deliver_twice(client, telegram, payload("reaction_removed"), django_capture_on_commit_callbacks)
    bot_message.refresh_from_db()
    assert bot_message.metadata["reactions"] == {}
    assert Message.objects.count() == 2  # reactions are not messages


def test_custom_emoji_reaction_is_ignored(
    client, telegram, bot_message, django_capture_on_commit_callbacks
):
    state = deliver_twice(
        client, telegram, payload("reaction_custom_emoji"), django_capture_on_commit_callbacks
    )

    assert state["events"] == [("ignored", 0)]
    bot_message.refresh_from_db()
    assert "reactions" not in bot_message.metadata


def test_blocking_the_bot_flags_the_contact(
    client, telegram, bot_message, django_capture_on_commit_callbacks
):
    deliver_twice(client, telegram, payload("bot_blocked"), django_capture_on_commit_callbacks)

    identity = ContactIdentity.objects.get()
    assert identity.metadata["blocked"] is True
    assert WebhookEvent.objects.get().status == "processed"


def test_unblocking_clears_the_flag(
    client, telegram, bot_message, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_update(client, telegram, payload("bot_blocked"))

    state = deliver_twice(
        client, telegram, payload("bot_unblocked"), django_capture_on_commit_callbacks
    )

    assert state["events"] == [("processed", 1), ("processed", 1)]
    assert ContactIdentity.objects.get().metadata["blocked"] is False


@pytest.mark.parametrize("name", ["channel_post", "inline_query", "future_update"])
def test_updates_outside_customer_chats_are_ignored(
    client, telegram, django_capture_on_commit_callbacks, name
):
    body = (
        b'{"update_id": 718204999, "giveaway_created": {}}'
        if name == "future_update"
        else payload(name)
    )

    state = deliver_twice(client, telegram, body, django_capture_on_commit_callbacks)

    assert state == {
        "contacts": [],
        "identities": [],
        "conversations": [],
        "messages": [],
        "events": [("ignored", 0)],
    }


GROUP = {"id": -1001234567890, "title": "Soporte FLAME", "type": "supergroup"}
ANA = {"id": 42, "is_bot": False, "first_name": "Ana"}


@pytest.mark.parametrize(
    ("update", "items"),
    [
        ({"update_id": 1}, []),
        ({"update_id": 2, "message": {"message_id": 5, "text": "sin chat ni remitente"}}, []),
        ({"update_id": 3, "message": "not an object"}, []),
        (
            {
                "update_id": 4,
                "message_reaction": {"chat": {"id": 1}, "message_id": 2, "new_reaction": 7},
            },
            [],  # nobody to attribute the reaction to
        ),
        (
            {
                "update_id": 5,
                "message": {"message_id": 9, "chat": GROUP, "from": ANA, "text": "hola"},
            },
            [
                InboundMessage(
                    external_contact_id="-1001234567890",
                    external_id="-1001234567890:9",
                    content="hola",
                    contact_name="Soporte FLAME",
                    metadata={"raw_type": "text"},
                )
            ],
        ),
        (
            {
                "update_id": 6,
                "message": {
                    "message_id": 10,
                    "chat": GROUP,
                    "from": ANA,
                    "pinned_message": {"message_id": 9},
                },
            },
            [
                InboundMessage(
                    external_contact_id="-1001234567890",
                    external_id="-1001234567890:10",
                    type="unsupported",
                    contact_name="Soporte FLAME",
                    metadata={"raw_type": "pinned_message"},
                )
            ],
        ),
        (
            {
                "update_id": 7,
                "callback_query": {
                    "id": "77",
                    "from": ANA,
                    "inline_message_id": "AAE",
                    "data": "go",
                },
            },
            [
                InboundMessage(
                    external_contact_id="42",
                    external_id="callback:77",
                    content="go",
                    type="interactive",
                    contact_name="Ana",
                    metadata={
                        "raw_type": "callback_query",
                        "callback_data": "go",
                        "callback_id": "77",
                    },
                ),
                CallbackAnswer(callback_id="77"),
            ],
        ),
    ],
)
def test_parser_copes_with_odd_updates(update, items):
    assert telegram_parse.parse(update, account_ids={"7012345678"}) == [
        Routed(account_id="7012345678", item=item) for item in items
    ]


def test_parser_needs_exactly_one_account():
    update = json.loads(payload("text_message"))

    assert telegram_parse.parse(update, account_ids=set()) == []
    assert telegram_parse.parse(update, account_ids={"1", "2"}) == []


# --- webhook authenticity and limits -------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "status", "code"),
    [("wrong-secret", 403, "signature_invalid"), (None, 401, "signature_missing")],
)
def test_wrong_or_missing_secret_is_refused(client, telegram, secret, status, code):
    response = post_update(
        client, telegram, payload("text_message"), HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=secret
    )

    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert WebhookEvent.objects.count() == 0


def test_unknown_path_secret_is_404(client, telegram):
    response = client.post(
        "/api/webhooks/telegram/not-a-known-path-secret",
        data=payload("text_message"),
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET,
    )

    assert response.status_code == 404
    assert WebhookEvent.objects.count() == 0


def test_secret_of_another_bot_is_refused(client, telegram, workspace):
    other = IntegrationFactory(
        workspace=workspace,
        platform="telegram",
        external_account_id="7099999999",
        credentials={
            "bot_token": "7099999999:AAOtherOtherOtherOtherOtherOtherOth",
            "secret_token": "other-secret",
        },
    )

    response = post_update(client, other, payload("text_message"))

    assert response.status_code == 403
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize(("size", "status"), [(3 * 1024 * 1024 + 1, 413), (2_900_000, 200)])
def test_body_size_limit(client, telegram, django_capture_on_commit_callbacks, size, status):
    update = json.loads(payload("text_message"))
    padding = size - len(json.dumps({**update, "padding": ""}).encode())
    body = json.dumps({**update, "padding": "x" * padding}).encode()
    assert len(body) == size

    with django_capture_on_commit_callbacks(execute=True):
        response = post_update(client, telegram, body)

    assert response.status_code == status
    assert Message.objects.count() == (1 if status == 200 else 0)


@pytest.mark.parametrize("body", [b'{"update_id": 1, "message": {', b"[1, 2]"])
def test_malformed_body_is_acknowledged_and_recorded_failed(
    client, telegram, django_capture_on_commit_callbacks, body
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_update(client, telegram, body)

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.status, event.error.startswith("Malformed body")) == ("failed", True)
    assert (Contact.objects.count(), Message.objects.count()) == (0, 0)


# --- sending -------------------------------------------------------------------------------------


def sent_message(message_id: int, **fields) -> dict:
    result = {
        "message_id": message_id,
        "from": {"id": 7012345678, "is_bot": True},
        "chat": {"id": 5126743981, "type": "private"},
        "date": 1789482700,
        **fields,
    }
    return {"ok": True, "result": result}


def refusal(status: int, description: str, **parameters) -> dict:
    body = {"ok": False, "error_code": status, "description": description}
    return {**body, "parameters": parameters} if parameters else body


def queue_reply(greeting: Message, **draft) -> Message:
    return message_store_outbound(
        conversation=greeting.conversation,
        sender=Message.Sender.AGENT,
        draft=OutboundDraft(**draft),
    )


@pytest.fixture
def greeting(telegram) -> Message:
    return customer_greeting(telegram)


def test_text_reply_is_sent_in_the_customer_thread(fake_api, greeting):
    fake_api.respond("POST", r"/sendMessage$", body=sent_message(1230, text="Sí, salió ayer."))
    reply = queue_reply(greeting, content="Sí, salió ayer.", reply_to=greeting)

    outcome = delivery.message_deliver(message_id=str(reply.pk))

    reply.refresh_from_db()
    assert (outcome.status, reply.status, reply.external_id) == ("sent", "sent", f"{CHAT}:1230")
    assert [(c.path, c.body) for c in fake_api.calls] == [
        (
            f"/bot{TOKEN}/sendMessage",
            {
                "chat_id": 5126743981,
                "text": "Sí, salió ayer.",
                "reply_parameters": {"message_id": 1204, "allow_sending_without_reply": True},
            },
        )
    ]


@pytest.mark.parametrize(
    ("kind", "method", "field"),
    [
        ("image", "sendPhoto", "photo"),
        ("file", "sendDocument", "document"),
        ("audio", "sendAudio", "audio"),
        ("video", "sendVideo", "video"),
    ],
)
def test_media_is_sent_by_url_with_its_caption(fake_api, greeting, kind, method, field):
    fake_api.respond("POST", rf"/{method}$", body=sent_message(1231))
    reply = queue_reply(
        greeting, type=kind, content="Aquí lo tienes", media_url="https://cdn.example/f.bin"
    )

    outcome = delivery.message_deliver(message_id=str(reply.pk))

    assert outcome.status == "sent"
    assert [(c.path, c.body) for c in fake_api.calls] == [
        (
            f"/bot{TOKEN}/{method}",
            {
                "chat_id": 5126743981,
                field: "https://cdn.example/f.bin",
                "caption": "Aquí lo tienes",
            },
        )
    ]


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (refusal(429, "Too Many Requests: retry after 7", retry_after=7), {}),
        (refusal(429, "Too Many Requests"), {"Retry-After": "7"}),  # a proxy in front of it
    ],
)
def test_rate_limited_send_waits_as_telegram_says(fake_api, greeting, body, headers):
    fake_api.respond("POST", r"/sendMessage$", status=429, body=body, headers=headers)
    reply = queue_reply(greeting, content="Un momento")

    outcome = delivery.message_deliver(message_id=str(reply.pk))

    assert outcome == delivery.Outcome(status="retrying", retry_in=7.0, next_attempt=1)
    reply.refresh_from_db()
    assert (reply.status, reply.external_id) == ("queued", None)


def test_server_error_is_retried_with_backoff(fake_api, greeting):
    fake_api.respond("POST", r"/sendMessage$", status=502, body=refusal(502, "Bad Gateway"))
    reply = queue_reply(greeting, content="Un momento")

    outcome = delivery.message_deliver(message_id=str(reply.pk))

    assert (outcome.status, outcome.next_attempt) == ("retrying", 1)
    assert 1.0 <= outcome.retry_in <= 3.0  # 2 s with ±50 % jitter on the first attempt
    reply.refresh_from_db()
    assert reply.status == "queued"


def test_read_timeout_fails_unconfirmed_without_resending(fake_api, greeting):
    fake_api.respond(
        "POST",
        r"/sendMessage$",
        body=sent_message(1232),
        delay=settings.PROVIDER_READ_TIMEOUT + 0.5,
    )
    reply = queue_reply(greeting, content="¿Sigues ahí?")

    outcome = delivery.message_deliver(message_id=str(reply.pk))

    reply.refresh_from_db()
    assert (outcome.status, reply.status, reply.error_code) == (
        "failed",
        "failed",
        "timeout_unconfirmed",
    )
    assert len(fake_api.calls) == 1


@pytest.mark.parametrize(
    ("status", "body", "code", "reason"),
    [
        (401, refusal(401, "Unauthorized"), "invalid_token", "The bot token is invalid."),
        (
            403,
            refusal(403, "Forbidden: bot was blocked by the user"),
            "bot_blocked",
            "The customer blocked the bot.",
        ),
        (
            403,
            refusal(403, "Forbidden: user is deactivated"),
            "user_deactivated",
            "The customer's Telegram account was deleted.",
        ),
        (
            400,
            refusal(400, "Bad Request: chat not found"),
            "chat_not_found",
            "The chat was not found: the customer never started the bot.",
        ),
        (
            400,
            refusal(400, "Bad Request: message is too long"),
            "400",
            "Telegram refused the request: Bad Request: message is too long",
        ),
    ],
)
def test_permanent_refusal_fails_with_a_readable_reason(
    fake_api, greeting, status, body, code, reason
):
    fake_api.respond("POST", r"/sendMessage$", status=status, body=body)
    reply = queue_reply(greeting, content="Hola")

    outcome = delivery.message_deliver(message_id=str(reply.pk))

    reply.refresh_from_db()
    assert (outcome.status, reply.status, reply.error_code, reply.error_message) == (
        "failed",
        "failed",
        code,
        reason,
    )
    assert len(fake_api.calls) == 1


def test_unreadable_success_is_unconfirmed(fake_api, greeting):
    # A 2xx that is not the Bot API's JSON (a proxy page): the message may have gone out.
    fake_api.respond("POST", r"/sendMessage$", body="<html>OK</html>")
    reply = queue_reply(greeting, content="Hola")

    outcome = delivery.message_deliver(message_id=str(reply.pk))

    reply.refresh_from_db()
    assert (outcome.status, reply.error_code) == ("failed", "transport_error")
    assert len(fake_api.calls) == 1


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_unreachable_telegram_never_shows_the_token(settings, greeting):
    settings.TELEGRAM_API_BASE_URL = closed_port_url()
    settings.PROVIDER_CONNECT_TIMEOUT = 1.0
    reply = queue_reply(greeting, content="Hola")

    with pytest.raises(RetryableSendError) as caught:
        telegram_client.send(integration=greeting.integration, message=reply)

    rendered = "".join(traceback.format_exception(caught.value))
    assert (caught.value.code, caught.value.__cause__, caught.value.__context__) == (
        "connection_error",
        None,
        None,
    )
    assert TOKEN not in rendered
    assert TOKEN.split(":")[1] not in repr(caught.value.__dict__)


def test_rate_limits_are_per_chat_and_per_bot(telegram, greeting):
    reply = queue_reply(greeting, content="Hola")

    limits = telegram_client.rate_limits(integration=telegram, message=reply)

    assert limits == [
        RateLimit(f"telegram:chat:{CHAT}", 1, 1),
        RateLimit("telegram:bot:7012345678", 30, 1),
    ]


def test_second_send_to_a_chat_within_a_second_waits(fake_api, greeting, monkeypatch):
    monkeypatch.setattr(throttle, "time", SimpleNamespace(time=lambda: 1_800_000_000.25))
    fake_api.respond("POST", r"/sendMessage$", body=sent_message(1233))
    first, second = queue_reply(greeting, content="Uno"), queue_reply(greeting, content="Dos")

    outcomes = [delivery.message_deliver(message_id=str(m.pk)) for m in (first, second)]

    assert outcomes == [
        delivery.Outcome(status="sent"),
        delivery.Outcome(status="throttled", retry_in=0.75),
    ]
    assert len(fake_api.calls) == 1


def test_contact_without_telegram_address_fails(fake_api, telegram, admin_user):
    # A channel conversation whose contact has no identity there (e.g. it was removed).
    conversation = ConversationFactory(
        workspace=telegram.workspace, integration=telegram, platform="telegram"
    )
    reply = message_store_outbound(
        conversation=conversation, sender=Message.Sender.AGENT, draft=OutboundDraft(content="Hola")
    )

    outcome = delivery.message_deliver(message_id=str(reply.pk))

    reply.refresh_from_db()
    assert (outcome.status, reply.error_code) == ("failed", "no_recipient")
    assert fake_api.calls == []


def test_agent_reply_through_the_api_is_delivered(
    admin_client, fake_api, greeting, django_capture_on_commit_callbacks
):
    fake_api.respond("POST", r"/sendMessage$", body=sent_message(1234))

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/api/conversations/{greeting.conversation_id}/messages",
            {"content": "Salió ayer, llega mañana.", "reply_to": str(greeting.pk)},
            format="json",
        )

    assert response.status_code == 201
    stored = Message.objects.get(pk=response.json()["id"])
    assert (stored.status, stored.external_id) == ("sent", f"{CHAT}:1234")
    assert [c.body for c in fake_api.calls] == [
        {
            "chat_id": 5126743981,
            "text": "Salió ayer, llega mañana.",
            "reply_parameters": {"message_id": 1204, "allow_sending_without_reply": True},
        }
    ]


# --- connecting ----------------------------------------------------------------------------------


@pytest.fixture
def inactive_telegram(telegram) -> Integration:
    Integration.objects.filter(pk=telegram.pk).update(status=Integration.Status.INACTIVE)
    telegram.refresh_from_db()
    return telegram


BOT_PROFILE = {
    "id": 7012345678,
    "is_bot": True,
    "first_name": "FLAME Tienda",
    "username": "flame_tienda_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


def test_connect_checks_the_token_and_registers_the_webhook(
    admin_client, fake_api, inactive_telegram
):
    fake_api.respond("POST", r"/getMe$", body={"ok": True, "result": BOT_PROFILE})
    fake_api.respond(
        "POST", r"/setWebhook$", body={"ok": True, "result": True, "description": "Webhook was set"}
    )

    response = admin_client.post(f"/api/integrations/{inactive_telegram.pk}/connect")

    assert (response.status_code, response.json()["status"]) == (200, "active")
    inactive_telegram.refresh_from_db()
    assert (
        inactive_telegram.status,
        inactive_telegram.external_account_id,
        inactive_telegram.last_error,
    ) == ("active", "7012345678", "")
    path_secret = inactive_telegram.webhook_secret
    assert (
        inactive_telegram.webhook_url
        == f"{settings.PUBLIC_BASE_URL}/api/webhooks/telegram/{path_secret}"
    )
    assert [(c.path, c.body) for c in fake_api.calls] == [
        (f"/bot{TOKEN}/getMe", {}),
        (
            f"/bot{TOKEN}/setWebhook",
            {
                "url": inactive_telegram.webhook_url,
                "secret_token": SECRET,
                "allowed_updates": [
                    "message",
                    "edited_message",
                    "callback_query",
                    "message_reaction",
                    "my_chat_member",
                ],
                "drop_pending_updates": False,
            },
        ),
    ]


HTTPS_REQUIRED = "An HTTPS URL must be provided for webhook"


@pytest.mark.parametrize(
    ("method", "status", "body", "provider_message"),
    [
        ("getMe", 401, refusal(401, "Unauthorized"), "The bot token is invalid."),
        (
            "setWebhook",
            400,
            refusal(400, f"Bad Request: bad webhook: {HTTPS_REQUIRED}"),
            f"Telegram refused the request: Bad Request: bad webhook: {HTTPS_REQUIRED}",
        ),
    ],
)
def test_refused_connection_is_409_and_saved(
    admin_client, fake_api, inactive_telegram, method, status, body, provider_message
):
    fake_api.respond("POST", r"/getMe$", body={"ok": True, "result": BOT_PROFILE})
    fake_api.respond("POST", rf"/{method}$", status=status, body=body)

    response = admin_client.post(f"/api/integrations/{inactive_telegram.pk}/connect")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "connect_failed"
    assert response.json()["error"]["details"] == {"provider_message": provider_message}
    inactive_telegram.refresh_from_db()
    assert (inactive_telegram.status, inactive_telegram.last_error) == ("error", provider_message)


def test_disconnect_deletes_the_webhook(admin_client, fake_api, telegram):
    fake_api.respond("POST", r"/deleteWebhook$", body={"ok": True, "result": True})

    response = admin_client.post(f"/api/integrations/{telegram.pk}/disconnect")

    assert (response.status_code, response.json()["status"]) == (200, "inactive")
    assert [(c.path, c.body) for c in fake_api.calls] == [
        (f"/bot{TOKEN}/deleteWebhook", {"drop_pending_updates": False})
    ]
    telegram.refresh_from_db()
    assert (telegram.status, telegram.last_error) == ("inactive", "")


def test_disconnect_with_a_revoked_token_still_deactivates(admin_client, fake_api, telegram):
    fake_api.respond("POST", r"/deleteWebhook$", status=401, body=refusal(401, "Unauthorized"))

    response = admin_client.post(f"/api/integrations/{telegram.pk}/disconnect")

    assert response.status_code == 200
    telegram.refresh_from_db()
    assert (telegram.status, telegram.last_error) == (
        "inactive",
        "Disconnect on the platform failed: The bot token is invalid.",
    )
