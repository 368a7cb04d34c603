"""What every change publishes: reloaded payloads and their realtime events.

Each is recorded with ``realtime.event_record`` inside the caller's transaction, so the outbox
row commits or rolls back with the change it describes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from conversations import realtime
from conversations.models import Contact, Conversation, Event, Message
from conversations.serializers import ContactSerializer, conversation_data, message_data

PREVIEW_LENGTH = 200


def _as_published():
    """Conversations with what their events' payload reads (``conversation_data``)."""
    return Conversation.objects.select_related(
        "contact", "assigned_agent", "assigned_assistant"
    ).prefetch_related("tags")


def reloaded(conversation: Conversation) -> Conversation:
    return _as_published().get(pk=conversation.pk)


def reloaded_many(conversation_ids) -> dict:
    """{id: conversation} as ``reloaded`` loads one, in two queries whatever their number."""
    return _as_published().in_bulk(list(conversation_ids))


def conversation_updated(conversation: Conversation, **extra: Any) -> Conversation:
    """Reload (F() values, tags) and record ``conversation:updated`` for its audience."""
    fresh = reloaded(conversation)
    realtime.event_save(conversation_updated_event(fresh, **extra))
    return fresh


def conversation_updated_event(fresh: Conversation, **extra: Any) -> Event:
    """``conversation:updated``, unsaved, for a conversation loaded as ``reloaded`` loads it."""
    return realtime.conversation_event_build(
        conversation=fresh,
        kind="conversation:updated",
        payload={"conversation": conversation_data(fresh), **extra},
    )


def conversation_created(conversation: Conversation) -> None:
    """Outgoing webhooks' ``conversation.created`` (the inbox learns of it by its first
    message or ``conversation:updated``)."""
    realtime.system_event_record(
        workspace_id=conversation.workspace_id,
        kind="conversation:created",
        payload={"conversation": conversation_data(reloaded(conversation))},
        conversation=conversation,
    )


def system_event(*, workspace_id, kind: str, payload: dict[str, Any], conversation=None) -> None:
    """A change only outgoing webhooks hear of (a rating, say): not sent to any socket."""
    realtime.system_event_record(
        workspace_id=workspace_id, kind=kind, payload=payload, conversation=conversation
    )


def _contact_event(contact: Contact, kind: str) -> None:
    fresh = Contact.objects.prefetch_related("identities__integration").get(pk=contact.pk)
    realtime.system_event_record(
        workspace_id=contact.workspace_id,
        kind=kind,
        payload={"contact": ContactSerializer(fresh).data},
    )


def contact_created(contact: Contact) -> None:
    _contact_event(contact, "contact:created")


def contact_updated(contact: Contact) -> None:
    _contact_event(contact, "contact:updated")


def message_new_payload(message: Message, conversation: Conversation) -> tuple:
    payload = {
        "conversation_id": str(conversation.pk),
        "message": message_data(message),
        "conversation": conversation_data(conversation),
    }
    return conversation, payload


def message_new(message: Message, conversation: Conversation) -> None:
    fresh, payload = message_new_payload(message, reloaded(conversation))
    realtime.event_record(
        workspace_id=fresh.workspace_id, kind="message:new", payload=payload, conversation=fresh
    )


def preview(message: Message) -> str:
    if message.content:
        return message.content[:PREVIEW_LENGTH]
    return f"[{message.type}]"


def status_event(message: Message) -> None:
    realtime.event_record(
        workspace_id=message.workspace_id,
        kind="message:status",
        payload={
            "conversation_id": str(message.conversation_id),
            "message_id": str(message.pk),
            "status": message.status,
            "error_code": message.error_code,
            "error_message": message.error_message,
        },
        conversation=message.conversation,
    )


def events_prune(*, older_than_days: int | None = None) -> int:
    """Delete outbox rows past retention; clients older than that reload their state. History
    lines stay: the thread shows them for as long as the conversation exists."""
    days = older_than_days if older_than_days is not None else settings.EVENT_RETENTION_DAYS
    expired = Event.objects.filter(created_at__lt=timezone.now() - timedelta(days=days))
    deleted, _ = expired.exclude(kind=Event.ACTIVITY).delete()
    return deleted


def message_updated(message: Message) -> None:
    realtime.event_record(
        workspace_id=message.workspace_id,
        kind="message:updated",
        payload={
            "conversation_id": str(message.conversation_id),
            "message": message_data(message),
        },
        conversation=message.conversation,
    )
