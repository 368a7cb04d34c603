"""Instagram's own send body and echo timing against a local HTTP server standing in for Graph.

Errors, retries, timeouts, connect and disconnect are in test_messenger_and_instagram.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Conversation, Message
from integrations import delivery
from integrations.providers.base import RateLimit
from integrations.providers.instagram import client as instagram
from integrations.tests.test_messenger_support import (
    INSTAGRAM,
    agent_message,
    channel_integration,
    customer_conversation,
    payload,
    post_signed,
)

pytestmark = pytest.mark.django_db

IG_ID, IGSID, IG_OUT = INSTAGRAM.account_id, INSTAGRAM.customer_id, INSTAGRAM.out_mid
SEND_PATH = r"^/v[\d.]+/me/messages$"
ACCEPTED = {"recipient_id": IGSID, "message_id": IG_OUT}


@pytest.fixture
def account(workspace):
    return channel_integration(workspace, INSTAGRAM)


@pytest.fixture
def conversation(account):
    return customer_conversation(account, IGSID)


def test_text_send_stores_the_mid_and_is_sent(fake_api, conversation, admin_user):
    fake_api.respond("POST", SEND_PATH, body=ACCEPTED)
    quoted = Message.objects.get(external_id=f"first-{IGSID}")
    message = agent_message(conversation, admin_user, "¡Sí, en talla S! 💚", reply_to=quoted)

    outcome = delivery.message_deliver(message_id=str(message.pk))

    assert outcome == delivery.Outcome(status="sent")
    message.refresh_from_db()
    assert (message.external_id, message.status) == (IG_OUT, "sent")
    (call,) = fake_api.calls
    assert (call.path, call.headers["Authorization"]) == (
        "/v21.0/me/messages",
        f"Bearer {INSTAGRAM.token}",
    )
    # No messaging_type or metadata: Instagram documents neither for plain replies.
    assert call.body == {
        "recipient": {"id": IGSID},
        "message": {"text": "¡Sí, en talla S! 💚"},
        "reply_to": {"mid": f"first-{IGSID}"},
    }


def test_human_agent_reply_after_24_hours_is_tagged(fake_api, conversation, admin_user):
    fake_api.respond("POST", SEND_PATH, body=ACCEPTED)
    last_wrote = timezone.now() - timedelta(hours=30)
    Conversation.objects.filter(pk=conversation.pk).update(last_customer_message_at=last_wrote)
    message = agent_message(conversation, admin_user)

    delivery.message_deliver(message_id=str(message.pk))

    body = fake_api.calls[0].body
    assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_echo_arriving_before_delivery_is_merged_into_our_message(
    fake_api, client, conversation, admin_user, django_capture_on_commit_callbacks
):
    fake_api.respond("POST", SEND_PATH, body=ACCEPTED)
    message = agent_message(conversation, admin_user, "¡Hola! Sí, nos queda en talla S 💚")
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, "instagram", payload("instagram", "echo_ours"))
    assert Message.objects.filter(external_id=IG_OUT, metadata__origin="echo").count() == 1

    delivery.message_deliver(message_id=str(message.pk))

    assert list(Message.objects.filter(external_id=IG_OUT).values_list("pk", "status")) == [
        (message.pk, "sent")
    ]
    assert Conversation.objects.get().message_count == 2  # the customer's and ours


def test_media_is_sent_as_an_attachment(fake_api, conversation, admin_user):
    fake_api.respond("POST", SEND_PATH, body=ACCEPTED)
    message = agent_message(
        conversation, admin_user, "", type="video", media_url="https://cdn.example.com/v.mp4"
    )

    delivery.message_deliver(message_id=str(message.pk))

    assert fake_api.calls[0].body["message"] == {
        "attachment": {"type": "video", "payload": {"url": "https://cdn.example.com/v.mp4"}}
    }
    message.refresh_from_db()
    assert (message.status, message.metadata) == ("sent", {})


def test_rate_limit_is_100_per_second_per_account(account, conversation, admin_user):
    message = agent_message(conversation, admin_user)

    assert instagram.rate_limits(integration=account, message=message) == [
        RateLimit(f"instagram:{IG_ID}", 100, 1)
    ]
