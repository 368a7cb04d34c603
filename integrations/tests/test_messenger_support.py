"""Helpers shared by the Messenger and Instagram tests (this module holds no tests).

Payload files are the HTTP bodies as Meta sends them (``\\uXXXX`` and ``\\/`` escapes), signed
for real with the integration's app secret and posted through the real webhook view.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from conversations.models import Contact, ContactIdentity, Conversation, Event, Message
from conversations.services import (
    InboundMessage,
    OutboundDraft,
    message_mark_sent,
    message_send_agent,
)
from integrations.inbound import customer_message_receive as message_receive_inbound
from integrations.models import WebhookEvent
from integrations.tests.conftest import meta_signature
from integrations.tests.factories import IntegrationFactory

PAYLOADS = Path(__file__).parent / "payloads"
APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "verify-token-for-tests"


@dataclass(frozen=True)
class Channel:
    """One platform's account and the ids its payload files use."""

    platform: str
    folder: str  # of the payload files
    account_id: str
    credentials: dict
    customer_id: str
    second_customer_id: str  # in batch.json
    out_mid: str  # our reply's platform id in the payload files (reactions, echoes, replies)
    profile_query: str  # what connect asks Graph for
    window_subcode: int  # "outside the 24-hour window" (docs/channels.md §meta.window)

    @property
    def token(self) -> str:
        return self.credentials.get("page_access_token") or self.credentials["access_token"]


MESSENGER = Channel(
    platform="facebook",
    folder="messenger",
    account_id="108523746291057",
    credentials={"page_id": "108523746291057", "page_access_token": "EAAG-page-token"},
    customer_id="7301928374650192",
    second_customer_id="6899120455713028",
    out_mid="m_Hq3vE6p1Yx0TfX4cJ8rKcW2nBd5sLz7aUo9iMgRyPt1eQv6hNj3kDw0bFs8lCxA4uZ2yGmVr5oTn7iEe9pHqa",
    profile_query="fields=name",
    window_subcode=2018278,
)
INSTAGRAM = Channel(
    platform="instagram",
    folder="instagram",
    account_id="17841405793187218",
    credentials={"instagram_account_id": "17841405793187218", "access_token": "IGQ-token"},
    customer_id="5482019384756102",
    second_customer_id="6120938475610293",
    out_mid=(
        "aWdfbWVzc2FnZV9pdGVtOjE6SUdNZXNzYWdlRGF0YToxNzg0MTQwNTc5MzE4NzIxODozMTk5NTYxMjM0NTY3ODkw"
        "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0"
    ),
    profile_query="fields=username%2Cname",
    window_subcode=2534022,
)
CHANNELS = {channel.platform: channel for channel in (MESSENGER, INSTAGRAM)}


def payload(folder: str, name: str) -> bytes:
    return (PAYLOADS / folder / f"{name}.json").read_bytes()


def channel_integration(workspace, channel: Channel):
    return IntegrationFactory(
        workspace=workspace,
        platform=channel.platform,
        external_account_id=channel.account_id,
        verify_token=VERIFY_TOKEN,
        credentials={**channel.credentials, "app_secret": APP_SECRET},
    )


def post_signed(client, platform: str, body: bytes, *, secret: str = APP_SECRET):
    return client.post(
        f"/api/webhooks/{platform}",
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=meta_signature(body, secret),
    )


def inbox_state() -> dict:
    """Everything a webhook may write, in comparable form (realtime events by count)."""
    messages = Message.objects.order_by("created_at", "external_id").values_list(
        "external_id",
        "sender",
        "type",
        "content",
        "media_url",
        "status",
        "metadata",
        "is_edited",
        "is_deleted",
        "reply_to__external_id",
    )
    conversations = Conversation.objects.order_by("created_at").values_list(
        "contact__identities__external_id",
        "platform",
        "status",
        "message_count",
        "unread_count",
        "last_message",
    )
    return {
        "messages": list(messages),
        "conversations": list(conversations),
        "contacts": sorted(Contact.objects.values_list("name", "phone")),
        "identities": sorted(ContactIdentity.objects.values_list("external_id", flat=True)),
        "events": Event.objects.count(),
    }


def deliver_twice(client, platform: str, body: bytes, capture) -> dict:
    """POST a body, POST it again, then once re-serialized (a Meta retry may re-batch: new
    bytes, same events): the second and third deliveries change nothing."""
    with capture(execute=True):
        first = post_signed(client, platform, body)
    after_first = inbox_state()
    with capture(execute=True):
        second = post_signed(client, platform, body)
        compact = json.dumps(json.loads(body), separators=(",", ":")).encode()
        rebatched = post_signed(client, platform, compact)

    assert [first.status_code, second.status_code, rebatched.status_code] == [200, 200, 200]
    duplicates = [response.json()["duplicate"] for response in (first, second, rebatched)]
    assert duplicates == [False, True, False]
    assert inbox_state() == after_first
    return after_first


def webhook_poster(client, channel: Channel, capture):
    """``post(name)`` delivers a payload file twice (plus re-batched) and returns the state
    after the first; ``message_id`` fills in the id Messenger echoes back as ``metadata``."""

    def post(name: str, *, message_id: str = "") -> dict:
        body = payload(channel.folder, name).replace(b"{{message_id}}", message_id.encode())
        return deliver_twice(client, channel.platform, body, capture)

    return post


def event_statuses() -> list[str]:
    return list(WebhookEvent.objects.order_by("id").values_list("status", flat=True))


def customer_conversation(integration, contact_id: str) -> Conversation:
    """A conversation on the integration, opened by the customer's first message."""
    inbound = InboundMessage(
        external_contact_id=contact_id, external_id=f"first-{contact_id}", content="Hola"
    )
    result = message_receive_inbound(integration=integration, inbound=inbound)
    return result.message.conversation


def agent_message(conversation, by, content: str = "¡Hola! ¿En qué te ayudo?", **draft) -> Message:
    """A queued outbound message; its delivery task is not run (tests call delivery)."""
    return message_send_agent(
        by=by, conversation=conversation, draft=OutboundDraft(content=content, **draft)
    )


def sent_agent_message(conversation, by, external_id: str, *, at: datetime | None = None):
    message = agent_message(conversation, by)
    message_mark_sent(message=message, external_id=external_id)
    if at is not None:  # sent before a receipt's watermark
        Message.objects.filter(pk=message.pk).update(created_at=at)
    message.refresh_from_db()
    return message


def from_ms(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)
