"""Messenger webhooks through the real view: every case posted twice (and once re-batched)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from conversations.models import Contact, Conversation, Message
from integrations import delivery
from integrations.tests.test_messenger_support import (
    MESSENGER,
    agent_message,
    channel_integration,
    event_statuses,
    from_ms,
    payload,
    post_signed,
    sent_agent_message,
    webhook_poster,
)

pytestmark = pytest.mark.django_db

PSID = MESSENGER.customer_id
T0 = 1789482605087  # the first event's timestamp (ms) in the payload files
M_TEXT = "m_gty9-r18s51Px9ytY3UZ9rc_97YlAd2RhjtKtnk1SfirU6Qog35mh2X-31mvEMsmntiKy9dOB_mMLoTKpSZg"
M_OUT = MESSENGER.out_mid
CDN = "https://scontent.xx.fbcdn.net/v/t1.15752-9/"
LINK_TITLE = "Chaqueta de pana verde \u2013 Tienda Olivo"
TEXT = "Hola, ¿siguen teniendo la chaqueta de pana en talla M? Me encantó 😍"


@pytest.fixture
def page(workspace):
    return channel_integration(workspace, MESSENGER)


@pytest.fixture
def post(client, page, django_capture_on_commit_callbacks):
    return webhook_poster(client, MESSENGER, django_capture_on_commit_callbacks)


@pytest.fixture
def our_message(client, page, admin_user, django_capture_on_commit_callbacks):
    """The customer wrote (text.json) and we answered; our answer has the platform id M_OUT."""
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, "facebook", payload("messenger", "text"))
    conversation = Conversation.objects.get()
    return sent_agent_message(conversation, admin_user, M_OUT, at=from_ms(T0 + 500))


def test_text_message_is_stored_once_without_a_name(post, page):
    post("text")

    message = Message.objects.get()
    assert (message.external_id, message.sender, message.type, message.content) == (
        M_TEXT,
        "user",
        "text",
        TEXT,
    )
    assert (message.status, message.media_url, message.reply_to_id) == ("delivered", "", None)
    assert message.metadata == {"platform_timestamp": "2026-09-15T14:30:05.087000+00:00"}
    conversation = Conversation.objects.get()
    assert (conversation.integration_id, conversation.platform) == (page.pk, "facebook")
    assert (conversation.message_count, conversation.unread_count) == (1, 1)
    assert list(conversation.contact.identities.values_list("external_id", flat=True)) == [PSID]
    # Webhooks carry no names: the contact stays unnamed until someone fills it in.
    assert list(Contact.objects.values_list("name", "phone")) == [("", "")]
    assert event_statuses() == ["processed", "processed"]


@pytest.mark.parametrize(
    ("name", "kind", "media_url", "metadata"),
    [
        (
            "image",
            "image",
            CDN + "451234567_1029384756_n.jpg?_nc_cat=104&ccb=1-7&oh=00_AYC&oe=66F1A2B3",
            {"attachment_type": "image"},
        ),
        (
            "audio",
            "audio",
            "https://cdn.fbsbx.com/v/t59.3654-21/nota_de_voz.mp4/audioclip-1789482606.mp4"
            "?_nc_cat=1&oh=03_Q7",
            {"attachment_type": "audio"},
        ),
        (
            "video",
            "video",
            "https://video.xx.fbcdn.net/v/t42.3356-2/prenda_probada.mp4?_nc_cat=109&oh=00_AYF",
            {"attachment_type": "video"},
        ),
        (
            "file",
            "file",
            "https://cdn.fbsbx.com/v/t59.2708-21/comprobante_de_pago_año.pdf/comprobante.pdf"
            "?_nc_cat=1&oh=03_Q8",
            {"attachment_type": "file"},
        ),
        (
            "sticker",
            "image",
            "https://scontent.xx.fbcdn.net/v/t39.1997-6/851557_369239266556155_759568595_n.png"
            "?_nc_cat=1",
            {"attachment_type": "sticker", "sticker_id": 369239263222822},
        ),
    ],
)
def test_media_message_keeps_the_cdn_url(post, name, kind, media_url, metadata):
    post(name)

    message = Message.objects.get()
    assert (message.type, message.content, message.media_url) == (kind, "", media_url)
    assert message.metadata.pop("platform_timestamp").startswith("2026-09-15T14:30:")
    assert message.metadata == metadata


def test_several_attachments_in_one_message_are_all_listed(post):
    post("album")

    message = Message.objects.get()
    assert (message.external_id, message.type) == ("m_album_XyZ2", "image")
    assert message.media_url == CDN + "451234568_1_n.jpg?oh=00_AYD"
    assert message.metadata["attachments"] == [
        {"type": "image", "url": CDN + "451234568_1_n.jpg?oh=00_AYD"},
        {"type": "image", "url": CDN + "451234569_2_n.jpg?oh=00_AYE"},
    ]


def test_shared_link_fallback_is_text_with_its_title(post):
    post("fallback")

    message = Message.objects.get()
    assert (message.type, message.content, message.media_url) == (
        "text",
        LINK_TITLE,
        "",
    )
    assert message.metadata == {
        "attachment_type": "fallback",
        "title": LINK_TITLE,
        "url": "https://tienda.example.com/p/chaqueta-pana-verde",
        "platform_timestamp": "2026-09-15T14:30:11.087000+00:00",
    }


@pytest.mark.parametrize(
    ("name", "raw_type"), [("fallback_empty", "fallback"), ("unsupported", "appointment_booking")]
)
def test_unknown_attachment_is_an_unsupported_message(post, name, raw_type):
    post(name)

    message = Message.objects.get()
    assert (message.type, message.content, message.sender) == ("unsupported", "", "user")
    assert (message.metadata["attachment_type"], message.metadata["raw_type"]) == (
        raw_type,
        raw_type,
    )
    assert Conversation.objects.get().last_message == "[unsupported]"


def test_quick_reply_is_interactive_with_its_payload(post):
    post("quick_reply")

    message = Message.objects.get()
    assert (message.external_id, message.type, message.content) == (
        "m_quick_Df0",
        "interactive",
        "Talla M",
    )
    assert message.metadata["quick_reply_payload"] == "SIZE_M"


def test_postback_is_interactive_with_title_and_payload(post):
    post("postback")

    message = Message.objects.get()
    assert (message.external_id, message.type, message.content) == (
        "m_postback_Jk2",
        "interactive",
        "Ver catálogo",
    )
    assert message.metadata == {
        "postback_title": "Ver catálogo",
        "postback_payload": "CATALOG",
        "platform_timestamp": "2026-09-15T14:30:15.087000+00:00",
    }


def test_postback_without_mid_gets_an_id_from_sender_time_and_payload(post):
    post("postback_get_started")

    message = Message.objects.get()
    key = f"{PSID}|{T0 + 11000}|GET_STARTED".encode()
    assert message.external_id == f"postback-{hashlib.sha256(key).hexdigest()[:40]}"
    assert (message.type, message.content) == ("interactive", "Empezar")
    assert message.metadata["referral"] == {
        "ref": "campaña-otoño",
        "source": "SHORTLINK",
        "type": "OPEN_THREAD",
    }


def test_named_reaction_without_an_emoji_gets_its_emoji(post, our_message):
    post("reaction_other")

    our_message.refresh_from_db()
    assert our_message.metadata["reactions"] == {PSID: "😮"}


def test_delivery_with_mids_marks_our_message_delivered(post, our_message):
    post("delivery")

    our_message.refresh_from_db()
    assert our_message.status == "delivered"


def test_delivery_watermark_moves_everything_sent_before_it(post, our_message, admin_user):
    later = sent_agent_message(
        our_message.conversation,
        admin_user,
        "m_later",
        at=from_ms(T0 + 16000) + timedelta(seconds=1),
    )

    post("delivery_watermark")

    our_message.refresh_from_db()
    later.refresh_from_db()
    assert (our_message.status, later.status) == ("delivered", "sent")
    assert Message.objects.get(external_id=M_TEXT).status == "delivered"  # the customer's


def test_read_watermark_marks_our_messages_read(post, our_message):
    post("read")

    our_message.refresh_from_db()
    assert our_message.status == "read"


def test_echo_arriving_before_delivery_stored_the_id_is_matched_by_metadata(
    fake_api, post, admin_user
):
    post("text")
    queued = agent_message(Conversation.objects.get(), admin_user)

    post("echo_ours", message_id=str(queued.pk))

    queued.refresh_from_db()
    assert (queued.external_id, queued.status) == (M_OUT, "queued")
    fake_api.respond("POST", r"/me/messages$", body={"recipient_id": PSID, "message_id": M_OUT})
    assert delivery.message_deliver(message_id=str(queued.pk)).status == "sent"
    queued.refresh_from_db()
    assert (queued.external_id, queued.status) == (M_OUT, "sent")
    assert Message.objects.count() == 2
