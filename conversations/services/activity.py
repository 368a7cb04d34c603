"""The history lines of a conversation (conversations/activity.py), written as events.

Each line is an ``Event`` of kind ``Event.ACTIVITY`` for the conversation's audience as it is
after the change, recorded in the caller's transaction and announced on
``hooks.activity_recorded`` (notifications, auto-assignment).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from accounts import audit
from accounts.models import User
from conversations import activity as kinds
from conversations import hooks, realtime
from conversations.activity import Activity, Snapshot, changes_between
from conversations.models import Conversation, Event
from conversations.services.events import reloaded


def _actor(by: User | None) -> dict[str, str] | None:
    if by is None:
        return None
    return {"id": str(by.pk), "name": by.name or by.email}


def activity_record(
    *, conversation: Conversation, kind: str, by: User | None = None, **data: Any
) -> Event:
    """Write one history line for ``conversation`` (as it is now) and announce it."""
    return _written(activity_line(conversation=conversation, kind=kind, by=by, **data))


def _written(line: ActivityLine) -> Event:
    realtime.event_save(line.event)
    activity_announce(line)
    return line.event


@dataclass(frozen=True)
class ActivityLine:
    """A history line built and not yet written: its event row, and what it announces."""

    conversation: Conversation
    event: Event
    activity: Activity
    by: User | None


def activity_line(
    *, conversation: Conversation, kind: str, by: User | None = None, **data: Any
) -> ActivityLine:
    """One history line for ``conversation`` (as it is now), unsaved: a caller writing many
    saves their events together (``realtime.events_save``), then announces each."""
    event = realtime.conversation_event_build(
        conversation=conversation,
        kind=Event.ACTIVITY,
        payload={
            "conversation_id": str(conversation.pk),
            "at": timezone.now().isoformat(),
            "activity": {"kind": kind, "by": _actor(by), **data},
        },
    )
    activity = Activity(kind=kind, by_id=by.pk if by is not None else None, data=data)
    return ActivityLine(conversation=conversation, event=event, activity=activity, by=by)


def activity_announce(line: ActivityLine) -> None:
    """What follows a written line: the audit log (for some kinds) and ``activity_recorded``."""
    activity = line.activity
    _audit(line.conversation, activity.kind, line.by, activity.data)
    hooks.activity_recorded.send(conversation=line.conversation, activity=activity)


# History lines that are also audited: who handed a conversation to whom, and its status.
_AUDITED = {
    kinds.ASSIGNED: audit.CONVERSATION_ASSIGNED,
    kinds.UNASSIGNED: audit.CONVERSATION_UNASSIGNED,
    kinds.RESOLVED: audit.CONVERSATION_STATUS_CHANGED,
    kinds.REOPENED: audit.CONVERSATION_STATUS_CHANGED,
    kinds.STATUS: audit.CONVERSATION_STATUS_CHANGED,
    kinds.HANDOFF: audit.CONVERSATION_STATUS_CHANGED,
}


def _audit(conversation: Conversation, kind: str, by: User | None, data: dict[str, Any]) -> None:
    action = _AUDITED.get(kind)
    if action is None:
        return
    audit.record(
        action=action,
        workspace_id=conversation.workspace_id,
        actor=by,
        target=("conversation", conversation.pk),
        data={"kind": kind, "status": conversation.status, **data},
    )


def stored_state(conversation: Conversation) -> Snapshot:
    """The conversation as the database holds it now: the caller's object may be older than
    the last change, and a history line must say what really changed."""
    return Snapshot.of(reloaded(conversation))


def activities_record(
    *, before: Snapshot, conversation: Conversation, by: User | None, **extra: Any
) -> list[Event]:
    """The lines for everything that changed since ``before`` (``extra`` joins each line)."""
    lines = activity_lines(before=before, conversation=conversation, by=by, **extra)
    return [_written(line) for line in lines]


def activity_lines(
    *, before: Snapshot, conversation: Conversation, by: User | None, **extra: Any
) -> list[ActivityLine]:
    """``activities_record``'s lines, built and not yet written (see ``activity_line``)."""
    return [
        activity_line(conversation=conversation, kind=kind, by=by, **data, **extra)
        for kind, data in changes_between(before, Snapshot.of(conversation))
    ]
