"""Instagram webhooks through the real view: every case posted twice (and once re-batched)."""

from __future__ import annotations

import pytest

from conversations.models import Contact, Conversation, Message
from integrations.models import WebhookEvent
from integrations.tests.test_messenger_support import (
    INSTAGRAM,
    channel_integration,
    event_statuses,
    payload,
    post_signed,
    sent_agent_message,
    webhook_poster,
)

pytestmark = pytest.mark.django_db

IGSID, IGSID2 = INSTAGRAM.customer_id, INSTAGRAM.second_customer_id
IG_TEXT = (
    "aWdfbWVzc2FnZV9pdGVtOjE6SUdNZXNzYWdlRGF0YToxNzg0MTQwNTc5MzE4NzIxODoxMjg2ODE1MjQ5NjYwOTgwNDg5"
    "MDY4NTgwNzQzMzQ0NDk4NjYw"
)
IG_OUT = INSTAGRAM.out_mid
TEXT = "¡Hola! ¿El vestido de lino verde viene en talla S? ¿Cuánto tarda el envío a Bogotá? 💚"
CDN = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id="


@pytest.fixture
def account(workspace):
    return channel_integration(workspace, INSTAGRAM)


@pytest.fixture
def post(client, account, django_capture_on_commit_callbacks):
    return webhook_poster(client, INSTAGRAM, django_capture_on_commit_callbacks)


@pytest.fixture
def our_message(post, admin_user):
    """The customer wrote (text.json) and we answered; our answer has the platform id IG_OUT."""
    post("text")
    return sent_agent_message(Conversation.objects.get(), admin_user, IG_OUT)


def test_text_message_is_stored_once_without_a_name(post, account):
    post("text")

    message = Message.objects.get()
    assert (message.external_id, message.sender, message.type, message.content) == (
        IG_TEXT,
        "user",
        "text",
        TEXT,
    )
    assert message.metadata == {"platform_timestamp": "2026-09-15T14:30:05.211000+00:00"}
    conversation = Conversation.objects.get()
    assert (conversation.platform, conversation.message_count, conversation.unread_count) == (
        "instagram",
        1,
        1,
    )
    assert list(conversation.contact.identities.values_list("external_id", flat=True)) == [IGSID]
    assert list(Contact.objects.values_list("name", "phone")) == [("", "")]
    assert event_statuses() == ["processed", "processed"]


def test_the_instagram_app_secret_also_signs(client, account, django_capture_on_commit_callbacks):
    # Instagram-Login apps sign with the Instagram app secret, not the Facebook one.
    account.credentials = {**account.credentials, "instagram_app_secret": "ig-login-secret"}
    account.save()

    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(
            client, "instagram", payload("instagram", "text"), secret="ig-login-secret"
        )

    assert response.status_code == 200
    assert WebhookEvent.objects.get().verified_integration_ids == [str(account.pk)]
    assert Message.objects.get().external_id == IG_TEXT


@pytest.mark.parametrize(
    ("name", "kind", "media_url"),
    [
        ("image", "image", CDN + "18034712345678901&signature=AbCdEf-img"),
        ("audio", "audio", CDN + "18034712345678901&signature=AbCdEf-audio"),
        ("video", "video", CDN + "18034712345678901&signature=AbCdEf-video"),
        ("file", "file", CDN + "18034712345678901&signature=AbCdEf-file"),
        ("share", "image", CDN + "18011122233344455&signature=Sh4r3"),
        ("story_mention", "image", CDN + "17999888777666555&signature=M3nt"),
    ],
)
def test_media_and_shares_keep_the_cdn_url(post, name, kind, media_url):
    post(name)

    message = Message.objects.get()
    assert (message.type, message.content, message.media_url) == (kind, "", media_url)
    assert message.metadata.pop("platform_timestamp").startswith("2026-09-15T14:30:")
    assert message.metadata == {"attachment_type": name}


def test_reel_share_is_a_video_titled_by_the_reel(post):
    post("ig_reel")

    message = Message.objects.get()
    assert (message.type, message.content, message.media_url) == (
        "video",
        "Nueva colección otoño 🍂",
        CDN + "18044455566677788&signature=R33l",
    )
    assert (message.metadata["attachment_type"], message.metadata["reel_video_id"]) == (
        "ig_reel",
        "18044455566677788",
    )


def test_story_reply_keeps_the_story_in_metadata(post):
    post("story_reply")

    message = Message.objects.get()
    assert (message.type, message.content, message.reply_to_id) == (
        "text",
        "¿Este bolso sigue disponible?",
        None,
    )
    assert message.metadata["reply_to_story"] == {
        "id": "17888777666555444",
        "url": CDN + "17888777666555444&signature=St0ry",
    }


def test_quick_reply_and_ice_breaker_are_interactive(post):
    post("quick_reply")
    post("postback")

    rows = Message.objects.order_by("created_at").values_list("type", "content", "metadata")
    assert [(kind, content) for kind, content, _ in rows] == [
        ("interactive", "Envío a domicilio"),
        ("interactive", "¿Hacen envíos?"),
    ]
    assert rows[0][2]["quick_reply_payload"] == "DELIVERY_HOME"
    assert (rows[1][2]["postback_title"], rows[1][2]["postback_payload"]) == (
        "¿Hacen envíos?",
        "ICEBREAKER_SHIPPING",
    )


def test_deleted_message_is_marked_deleted_and_its_text_forgotten(post):
    post("text")
    post("deleted")

    message = Message.objects.get()
    assert (message.is_deleted, message.content) == (True, "")
    assert message.conversation.last_message == ""


def test_unsupported_message_is_stored_as_unsupported(post):
    post("unsupported")

    message = Message.objects.get()
    assert (message.external_id, message.type, message.content) == (
        "aWdfunsupportedMID",
        "unsupported",
        "",
    )
    assert message.metadata["raw_type"] == "unsupported"


def test_read_receipt_by_mid_marks_our_message_read(post, our_message):
    post("read")

    our_message.refresh_from_db()
    assert our_message.status == "read"


def test_changes_shape_is_accepted(post):
    post("changes_shape_message")

    message = Message.objects.get()
    assert (message.external_id, message.content) == (
        "aWdfchangesMID",
        "Mensaje con la forma de changes[] 🙂",
    )
    # Dashboard test events give seconds, as a string.
    assert message.metadata == {"platform_timestamp": "2026-09-15T14:30:25+00:00"}
    assert message.conversation.contact.identities.get().external_id == IGSID2
