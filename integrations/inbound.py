"""Customer messages from a webhook, from storage to everything that follows.

Ingestion is the one place that runs the whole inbound flow, for a single webhook and for a
batch alike: satisfaction first (a survey answer becomes a rating and goes no further), then the
conversations core stores the rest exactly once, then the assistants schedule their replies and
the analysis (not for messages of a thread another app owns, docs/channels.md
§messenger.handover), and the customers' files are queued for download. Each app keeps its own
rules; this module only orders them, inside the caller's transaction.
"""

from __future__ import annotations

from assistants.services import customer_messages_received
from conversations.models import Message
from conversations.services import (
    InboundMessage,
    InboundResult,
    inbound_not_stored,
    messages_receive_inbound,
)
from integrations import media
from integrations.models import Integration
from satisfaction import services as satisfaction


def customer_messages_receive(
    *, integration: Integration, inbounds: list[InboundMessage]
) -> list[Message]:
    """Store a delivery's customer messages and start what follows; returns what was stored."""
    fresh = inbound_not_stored(integration=integration, inbounds=inbounds)
    answers, rest = satisfaction.survey_answers_receive(integration=integration, inbounds=fresh)
    batch = messages_receive_inbound(integration=integration, inbounds=rest)
    # Another app owns a thread whose events come as standby: kept, never answered here.
    answerable = [message for message in batch.messages if not message.metadata.get("standby")]
    if answerable:
        customer_messages_received(messages=answerable, conversations=batch.conversations)
    # The customers' files are fetched on the media queue, once the messages are committed.
    media.downloads_schedule(attachments=batch.attachments)
    return [*answers, *batch.messages]


def customer_message_receive(*, integration: Integration, inbound: InboundMessage) -> InboundResult:
    """One customer message through the same flow (the simulator, tests, tools)."""
    stored = customer_messages_receive(integration=integration, inbounds=[inbound])
    if stored:
        return InboundResult(message=stored[0], created=True)
    existing = Message.objects.get(integration=integration, external_id=inbound.external_id)
    return InboundResult(message=existing, created=False)
