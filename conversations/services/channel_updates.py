"""What channels report about messages already in a thread: reactions, edits, deletions,
delivery receipts (one by one or by watermark) and echoes of messages the business sent."""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction

from conversations.models import Attachment, ContactIdentity, Message
from conversations.services.attachments import attachments_create_inbound, purge_message_content
from conversations.services.counters import count_new_message
from conversations.services.events import message_new, message_updated
from conversations.services.inbound import contact_for_identity, open_conversation_for
from conversations.services.outbound import message_update_status, statuses_before
from conversations.types import EchoedMessage, InboundMessage


def _locked_channel_message(integration, external_id: str) -> Message | None:
    return (
        Message.objects.select_for_update(of=("self",))
        .select_related("conversation")
        .filter(integration=integration, external_id=external_id)
        .first()
    )


@transaction.atomic
def message_react(*, integration, target_external_id: str, reactor: str, emoji: str) -> bool:
    """Store a reaction on the message it reacts to (not as a message); empty emoji removes it."""
    message = _locked_channel_message(integration, target_external_id)
    if message is None:
        return False
    reactions = dict(message.metadata.get("reactions", {}))
    if reactions.get(reactor, "") == emoji or (not emoji and reactor not in reactions):
        return True  # a repeated delivery: nothing changes
    if emoji:
        reactions[reactor] = emoji
    else:
        reactions.pop(reactor, None)
    message.metadata = {**message.metadata, "reactions": reactions}
    message.save(update_fields=["metadata"])
    message_updated(message)
    return True


@transaction.atomic
def message_edit_from_channel(*, integration, target_external_id: str, content: str) -> bool:
    message = _locked_channel_message(integration, target_external_id)
    if message is None:
        return False
    if message.content == content:
        return True
    history = [*message.metadata.get("edits", []), message.content][-10:]
    message.metadata = {**message.metadata, "edits": history}
    message.content = content
    message.is_edited = True
    message.save(update_fields=["content", "is_edited", "metadata"])
    message_updated(message)
    return True


@transaction.atomic
def message_delete_from_channel(*, integration, target_external_id: str) -> bool:
    """The customer deleted (revoked, unsent) a message: what we stored of it goes — text,
    captions, files — and a "deleted" marker stays in the thread."""
    message = _locked_channel_message(integration, target_external_id)
    if message is None:
        return False
    if not message.is_deleted:
        message.is_deleted = True
        purge_message_content(message)
        message.save(update_fields=["is_deleted", "content", "media_url", "metadata"])
        message_updated(message)
    return True


@transaction.atomic
def message_status_from_channel(
    *, integration, external_id: str, status: str, error_code: str = "", error_message: str = ""
) -> bool:
    """Apply a receipt; False when no message of ours carries ``external_id`` (yet)."""
    message = (
        Message.objects.select_related("conversation")
        .filter(integration=integration, external_id=external_id)
        .first()
    )
    if message is None:
        return False
    message_update_status(
        message=message, status=status, error_code=error_code, error_message=error_message
    )
    return True


@transaction.atomic
def messages_apply_watermark(
    *, integration, external_contact_id: str, status: str, watermark
) -> int:
    """Messenger receipts: everything we sent this contact up to ``watermark`` moves forward."""
    identity = ContactIdentity.objects.filter(
        integration=integration, external_id=external_contact_id
    ).first()
    if identity is None:
        return 0
    candidates = (
        Message.objects.select_related("conversation")
        .filter(
            integration=integration,
            conversation__contact_id=identity.contact_id,
            created_at__lte=watermark,
            status__in=statuses_before(status),
        )
        .exclude(sender=Message.Sender.USER)[:200]
    )
    return sum(message_update_status(message=message, status=status) for message in candidates)


def _echo_is_ours(integration, echo: EchoedMessage) -> bool:
    if Message.objects.filter(integration=integration, external_id=echo.external_id).exists():
        return True
    if not echo.our_message_id:
        return False
    try:
        uuid.UUID(str(echo.our_message_id))
    except ValueError:
        return False  # metadata someone else put on a send: not one of our message ids
    # The platform echoed our send before delivery stored its id: adopt the id now.
    return bool(
        Message.objects.filter(
            pk=echo.our_message_id, integration=integration, external_id__isnull=True
        ).update(external_id=echo.external_id)
    )


@transaction.atomic
def message_record_echo(*, integration, echo: EchoedMessage) -> list[Attachment] | None:
    """A message the business sent outside FLAME (Page inbox, phone app): store it once.

    Our own sends come back as echoes too; they are recognised and change nothing. Returns
    the files still to download of the new message, or None when nothing was stored.
    """
    if _echo_is_ours(integration, echo):
        return None
    # The business may start a conversation from the phone app: the customer can be new to us.
    contact = contact_for_identity(
        integration, InboundMessage(external_contact_id=echo.external_contact_id, external_id="")
    )
    conversation, _opened = open_conversation_for(integration, contact)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation,
                workspace_id=conversation.workspace_id,
                integration=integration,
                sender=Message.Sender.AGENT,
                type=echo.type,
                content=echo.content,
                media_url=echo.media_url,
                metadata={**(echo.metadata or {}), "origin": "echo"},
                external_id=echo.external_id,
                status=Message.Status.SENT,
            )
    except IntegrityError:
        return None
    files = attachments_create_inbound([(message, echo.attachments)])
    count_new_message(conversation, message)
    message_new(message, conversation)
    return files
