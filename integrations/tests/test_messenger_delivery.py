"""Messenger's own send body against a local HTTP server standing in for Graph.

Errors, retries, timeouts, connect and disconnect are in test_messenger_and_instagram.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Conversation, Message
from integrations import delivery
from integrations.providers.base import RateLimit
from integrations.providers.messenger import client as messenger
from integrations.tests.test_messenger_support import (
    MESSENGER,
    agent_message,
    channel_integration,
    customer_conversation,
)

pytestmark = pytest.mark.django_db

PAGE_ID, PSID, M_OUT = MESSENGER.account_id, MESSENGER.customer_id, MESSENGER.out_mid
SEND_PATH = r"^/v[\d.]+/me/messages$"
ACCEPTED = {"recipient_id": PSID, "message_id": M_OUT}


@pytest.fixture
def page(workspace):
    return channel_integration(workspace, MESSENGER)


@pytest.fixture
def conversation(page):
    return customer_conversation(page, PSID)


def test_text_send_stores_the_mid_and_is_sent(fake_api, conversation, admin_user):
    fake_api.respond("POST", SEND_PATH, body=ACCEPTED)
    message = agent_message(conversation, admin_user, "¡Sí! Nos queda en talla M 😊")

    outcome = delivery.message_deliver(message_id=str(message.pk))

    assert outcome == delivery.Outcome(status="sent")
    message.refresh_from_db()
    assert (message.external_id, message.status) == (M_OUT, "sent")
    (call,) = fake_api.calls
    assert (call.method, call.path, call.headers["Authorization"]) == (
        "POST",
        "/v21.0/me/messages",
        f"Bearer {MESSENGER.token}",
    )
    assert call.body == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "¡Sí! Nos queda en talla M 😊", "metadata": str(message.pk)},
    }


def test_reply_carries_the_quoted_mid(fake_api, conversation, admin_user):
    fake_api.respond("POST", SEND_PATH, body=ACCEPTED)
    quoted = Message.objects.get(external_id=f"first-{PSID}")
    message = agent_message(conversation, admin_user, "Te respondo a esto", reply_to=quoted)

    delivery.message_deliver(message_id=str(message.pk))

    assert fake_api.calls[0].body["reply_to"] == {"mid": f"first-{PSID}"}


def test_media_is_sent_as_a_reusable_attachment(fake_api, conversation, admin_user):
    fake_api.respond("POST", SEND_PATH, body=ACCEPTED)
    message = agent_message(
        conversation,
        admin_user,
        "Así se ve",
        type="image",
        media_url="https://cdn.example.com/chaqueta.jpg",
    )

    delivery.message_deliver(message_id=str(message.pk))

    assert fake_api.calls[0].body["message"] == {
        "attachment": {
            "type": "image",
            "payload": {"url": "https://cdn.example.com/chaqueta.jpg", "is_reusable": True},
        },
        "metadata": str(message.pk),
    }
    message.refresh_from_db()
    # The Send API has no captions: the text did not go out, and the message says so.
    assert (message.status, message.metadata) == ("sent", {"caption_not_sent": True})


def _queued_then_customer_wrote(conversation, admin_user, *, hours_ago: int, sender: str):
    """An outbound message queued while the window was open; the customer's last message is
    then ``hours_ago`` old when delivery runs."""
    message = agent_message(conversation, admin_user)
    Message.objects.filter(pk=message.pk).update(sender=sender)
    last_wrote = timezone.now() - timedelta(hours=hours_ago)
    Conversation.objects.filter(pk=conversation.pk).update(last_customer_message_at=last_wrote)
    return message


@pytest.mark.parametrize(
    ("hours_since_customer", "fields"),
    [
        (30, {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}),
        (2, {"messaging_type": "RESPONSE"}),
    ],
)
def test_human_agent_tag_only_for_agents_between_24_hours_and_7_days(
    fake_api, conversation, admin_user, hours_since_customer, fields
):
    fake_api.respond("POST", SEND_PATH, body=ACCEPTED)
    message = _queued_then_customer_wrote(
        conversation, admin_user, hours_ago=hours_since_customer, sender="agent"
    )

    delivery.message_deliver(message_id=str(message.pk))

    body = fake_api.calls[0].body
    assert {key: body[key] for key in ("messaging_type", "tag") if key in body} == fields


@pytest.mark.parametrize(("hours_since_customer", "sender"), [(30, "assistant"), (24 * 8, "agent")])
def test_outside_the_window_a_send_fails_without_calling_meta(
    fake_api, conversation, admin_user, hours_since_customer, sender
):
    # An assistant never uses the human-agent tag; past 7 days nobody may write.
    message = _queued_then_customer_wrote(
        conversation, admin_user, hours_ago=hours_since_customer, sender=sender
    )

    outcome = delivery.message_deliver(message_id=str(message.pk))

    assert outcome == delivery.Outcome(status="failed")
    message.refresh_from_db()
    assert (message.status, message.error_code, message.error_message) == (
        "failed",
        "reply_window_closed",
        "The messaging window closed before this message could be sent: the customer has to "
        "write again first.",
    )
    assert fake_api.calls == []


def test_rate_limits_per_page_and_slower_for_audio_and_video(page, conversation, admin_user):
    text = agent_message(conversation, admin_user)
    audio = agent_message(
        conversation, admin_user, "", type="audio", media_url="https://cdn.example.com/a.mp3"
    )

    assert messenger.rate_limits(integration=page, message=text) == [
        RateLimit(f"facebook:{PAGE_ID}", 300, 1)
    ]
    assert messenger.rate_limits(integration=page, message=audio) == [
        RateLimit(f"facebook:{PAGE_ID}", 300, 1),
        RateLimit(f"facebook:{PAGE_ID}:audio-video", 10, 1),
    ]
