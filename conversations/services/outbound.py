"""What the business sends: agents' and assistants' messages, their delivery status, retries.

A message to a channel is stored ``queued`` and announced on
``hooks.outbound_message_queued``, where the integrations app delivers it after commit. Status
only moves forward (queued < sent < delivered < read; failed from queued or sent), guarded by a
conditional UPDATE.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from conversations import hooks
from conversations.models import Attachment, Conversation, Message
from conversations.services.access import ensure_can_act
from conversations.services.attachments import (
    MESSAGE_TYPES,
    StoredFile,
    Upload,
    typed_upload,
    upload_discard,
    upload_refusal,
    upload_store,
)
from conversations.services.counters import count_new_message
from conversations.services.events import message_new, status_event
from conversations.window import ensure_may_write_freely
from flame.exceptions import ConflictError, InvalidInput


@dataclass(frozen=True)
class OutboundFile:
    """An agent's file, already checked and written to storage, to attach to the message."""

    attachment: Attachment
    stored: StoredFile


@dataclass(frozen=True)
class OutboundDraft:
    content: str = ""
    type: str = Message.Type.TEXT
    media_url: str = ""
    metadata: dict | None = None
    reply_to: Message | None = None
    # A file an agent attached (the content is its caption); checked and stored on sending.
    upload: Upload | None = None
    file: OutboundFile | None = None


def _attach(message: Message, file: OutboundFile) -> None:
    attachment = file.attachment
    attachment.message = message
    attachment.workspace_id = message.workspace_id
    attachment.file.name = file.stored.name
    attachment.mime_type = file.stored.mime_type
    attachment.size = file.stored.size
    attachment.sha256 = file.stored.sha256
    attachment.file_name = file.stored.file_name
    attachment.caption = message.content
    attachment.status = Attachment.Status.READY
    attachment.save(force_insert=True)


def message_store_outbound(
    *,
    conversation: Conversation,
    sender: str,
    draft: OutboundDraft,
    author: User | None = None,
    assistant=None,
) -> Message:
    """Store an agent's or assistant's message and hand it to delivery on commit.

    A conversation with a channel behind it gets the message ``queued`` until the provider
    accepts it. One without (opened by hand) has nowhere to deliver to: the message is ``sent``
    as stored, with no task and no second event. Callers hold the transaction
    (``message_send_agent``, the assistants' auto-reply).
    """
    if not draft.content.strip() and not draft.media_url and draft.file is None:
        raise InvalidInput(
            "Invalid input.", details={"content": ["A message needs text or media."]}
        )
    message = Message.objects.create(
        conversation=conversation,
        workspace_id=conversation.workspace_id,
        integration_id=conversation.integration_id,
        sender=sender,
        author=author,
        assistant=assistant,
        type=draft.type,
        content=draft.content,
        media_url=draft.media_url,
        metadata=draft.metadata or {},
        reply_to=draft.reply_to,
        status=Message.Status.QUEUED if conversation.integration_id else Message.Status.SENT,
    )
    if draft.file is not None:
        _attach(message, draft.file)
    count_new_message(conversation, message)
    message_new(message, conversation)
    if message.status == Message.Status.QUEUED:
        hooks.outbound_message_queued.send(message=message)
    return message


def message_send_agent(*, by: User, conversation: Conversation, draft: OutboundDraft) -> Message:
    """An agent's message: text, a file with its caption, or an approved template.

    What the channel would refuse — free text outside the messaging window, a file of a type or
    size the platform does not take — is refused here, before anything is stored or sent. An
    attached file is written to storage before the transaction (on S3 that is a network call)
    and removed again if the message is not stored.
    """
    ensure_can_act(by=by, conversation=conversation)
    if draft.reply_to is not None and draft.reply_to.conversation_id != conversation.pk:
        raise InvalidInput("Invalid input.", details={"reply_to": ["Not in this conversation."]})
    if draft.type != Message.Type.TEMPLATE:
        ensure_may_write_freely(conversation, sender=Message.Sender.AGENT)
    draft = _with_stored_file(conversation, draft)
    try:
        with transaction.atomic():
            message = message_store_outbound(
                conversation=conversation, sender=Message.Sender.AGENT, draft=draft, author=by
            )
            hooks.agent_replied.send(message=message)
    except BaseException:
        upload_discard(draft.file.stored if draft.file else None)
        raise
    return message


def _with_stored_file(conversation: Conversation, draft: OutboundDraft) -> OutboundDraft:
    if draft.upload is None:
        return draft
    upload = typed_upload(draft.upload)
    refusal = upload_refusal(conversation, upload, draft.content)
    if refusal:
        raise InvalidInput("Invalid input.", details={"file": [refusal]})
    attachment = Attachment(workspace_id=conversation.workspace_id, kind=upload.kind)
    stored = upload_store(attachment, upload)
    file = OutboundFile(attachment=attachment, stored=stored)
    return replace(draft, upload=None, file=file, type=MESSAGE_TYPES[upload.kind], media_url="")


@transaction.atomic
def message_mark_sent(*, message: Message, external_id: str, metadata: dict | None = None) -> bool:
    """The platform accepted the message and gave it ``external_id``.

    Instagram may echo our send back before this runs; that echo was stored as a separate
    message with the same id, so it is removed here and the id moves to the real message.
    """
    # A message the platform accepted has an integration; the stubs only see a nullable column.
    echo_copies = Message.objects.filter(
        integration_id=message.integration_id,  # type: ignore[misc]
        external_id=external_id,
        metadata__origin="echo",
    ).exclude(pk=message.pk)
    removed = echo_copies.delete()[0]
    if removed:
        Conversation.objects.filter(pk=message.conversation_id).update(
            message_count=F("message_count") - removed
        )
    if metadata:
        Message.objects.filter(pk=message.pk).update(metadata={**message.metadata, **metadata})
    return message_update_status(
        message=message, status=Message.Status.SENT, external_id=external_id
    )


def _may_move(current: str, new: str) -> bool:
    if current == Message.Status.FAILED:
        return False
    if new == Message.Status.FAILED:
        return current in (Message.Status.QUEUED, Message.Status.SENT)
    return Message.STATUS_RANK[new] > Message.STATUS_RANK[current]


def statuses_before(new: str) -> list[str]:
    return [status for status in Message.Status if _may_move(status, new)]


@transaction.atomic
def message_update_status(
    *,
    message: Message,
    status: str,
    error_code: str = "",
    error_message: str = "",
    external_id: str | None = None,
) -> bool:
    """Move a message's delivery status forward; a late or repeated update changes nothing.

    The conditional UPDATE is the guard: a ``delivered`` that arrives after ``read`` matches no
    row. Returns whether the status moved.
    """
    changes: dict[str, Any] = {"status": status, "status_changed_at": timezone.now()}
    if status == Message.Status.FAILED:
        changes.update(error_code=error_code[:64], error_message=error_message)
    if external_id:
        changes["external_id"] = external_id
    moved = Message.objects.filter(pk=message.pk, status__in=statuses_before(status)).update(
        **changes
    )
    if not moved:
        return False
    # What the UPDATE wrote, without reading the row back (and keeping the loaded conversation
    # the event's audience comes from).
    for field, value in changes.items():
        setattr(message, field, value)
    status_event(message)
    return True


@transaction.atomic
def message_resend(*, message: Message) -> Message:
    """Queue a failed outbound message for delivery again (agents via the API, operators in
    admin); the retry really sends, through the same delivery task."""
    reset = Message.objects.filter(
        pk=message.pk,
        status=Message.Status.FAILED,
        sender__in=(Message.Sender.AGENT, Message.Sender.ASSISTANT),
        private=False,  # a note is never sent, so never sent again
    ).update(
        status=Message.Status.QUEUED,
        error_code="",
        error_message="",
        status_changed_at=timezone.now(),
    )
    if not reset:
        raise ConflictError("Only failed outbound messages can be retried.", code="not_retryable")
    message.refresh_from_db()
    status_event(message)
    hooks.outbound_message_queued.send(message=message)
    return message


def message_retry(*, by: User, message: Message) -> Message:
    ensure_can_act(by=by, conversation=message.conversation)
    if message.type != Message.Type.TEMPLATE and message.status == Message.Status.FAILED:
        # Sure to fail again outside the window: say so now instead of queueing it.
        ensure_may_write_freely(message.conversation, sender=message.sender)
    return message_resend(message=message)
