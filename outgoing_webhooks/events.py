"""Which of the core's events (``conversations.Event``, the realtime outbox) become which
webhook events, and the body each delivery carries: the same serialised objects the inbox
receives, so webhooks and the API describe things alike."""

from __future__ import annotations

import json
from typing import Any

from conversations import activity
from conversations.models import Event
from outgoing_webhooks.models import EventType

_ACTIVITY_TYPES = {
    activity.ASSIGNED: EventType.CONVERSATION_ASSIGNED,
    activity.UNASSIGNED: EventType.CONVERSATION_ASSIGNED,
    activity.RESOLVED: EventType.CONVERSATION_STATUS_CHANGED,
    activity.REOPENED: EventType.CONVERSATION_STATUS_CHANGED,
    activity.STATUS: EventType.CONVERSATION_STATUS_CHANGED,
    activity.HANDOFF: EventType.CONVERSATION_STATUS_CHANGED,
}
_KIND_TYPES = {
    "message:new": EventType.MESSAGE_CREATED,
    "message:updated": EventType.MESSAGE_UPDATED,
    "message:status": EventType.MESSAGE_UPDATED,
    # Recorded for webhooks alone (Event.Audience.SYSTEM); their payload is the body's data.
    "conversation:created": EventType.CONVERSATION_CREATED,
    "contact:created": EventType.CONTACT_CREATED,
    "contact:updated": EventType.CONTACT_UPDATED,
    "rating:created": EventType.RATING_CREATED,
    # Admins' realtime events; for a receiver, the kept contact changed.
    "contact:merged": EventType.CONTACT_UPDATED,
    "contact:merge_undone": EventType.CONTACT_UPDATED,
}
SOURCE_KINDS = (*_KIND_TYPES, Event.ACTIVITY)


def event_type_of(event: Event) -> str | None:
    if event.kind == Event.ACTIVITY:
        kind = (event.payload.get("activity") or {}).get("kind")
        return _ACTIVITY_TYPES.get(kind)
    return _KIND_TYPES.get(event.kind)


def _data(event: Event) -> dict[str, Any]:
    payload = dict(event.payload)
    if event.kind == Event.ACTIVITY:
        return {
            "conversation_id": payload.get("conversation_id"),
            "activity": payload.get("activity"),
        }
    return payload


def body_of(*, delivery_id, event: Event, event_type: str) -> str:
    """The JSON body, fixed when the delivery is made: every try sends the same bytes."""
    return json.dumps(
        {
            "id": str(delivery_id),
            "event": event_type,
            "created_at": event.created_at.isoformat(),
            "workspace_id": str(event.workspace_id),
            "data": _data(event),
        },
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
