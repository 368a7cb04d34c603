"""The lines of a conversation's history that are not messages: who assigned it, resolved it,
snoozed it, changed its priority or tags, when an assistant handed it over or a survey went out.

Each is an ``Event`` of kind ``Event.ACTIVITY`` written in the transaction of the change
(``conversations.services.activity``), so the thread reads them from the same log that carries
them live, and the page words them in its own language from the structured payload below
(``static/js/inbox/activity.js``). Names are copied in when the line is written: the history
keeps saying who did it after a colleague leaves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

ASSIGNED = "assigned"
UNASSIGNED = "unassigned"
RESOLVED = "resolved"
REOPENED = "reopened"
STATUS = "status"  # active <-> pending, archived
PRIORITY = "priority"
TAGS = "tags"
SNOOZED = "snoozed"
UNSNOOZED = "unsnoozed"
HANDOFF = "handoff"
SURVEY_SENT = "survey_sent"

KINDS = (
    ASSIGNED,
    UNASSIGNED,
    RESOLVED,
    REOPENED,
    STATUS,
    PRIORITY,
    TAGS,
    SNOOZED,
    UNSNOOZED,
    HANDOFF,
    SURVEY_SENT,
)
CLOSED_STATUSES = ("resolved", "archived")


@dataclass(frozen=True)
class Activity:
    """One line: what happened, who did it (None: the system or an assistant), and the kind's
    own facts (``agent``, ``status``, ``priority``, ``added``/``removed``, ``until``, ...)."""

    kind: str
    by_id: UUID | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    """What the history compares before and after a change."""

    status: str
    priority: str
    agent: tuple[str, str] | None  # (id, name)
    tags: tuple[str, ...]
    snoozed: bool
    snoozed_until: datetime | None

    @classmethod
    def of(cls, conversation: Any) -> Snapshot:
        agent = conversation.assigned_agent
        return cls(
            status=conversation.status,
            priority=conversation.priority,
            agent=(str(agent.pk), agent.name or agent.email) if agent is not None else None,
            tags=tuple(sorted(tag.name for tag in conversation.tags.all())),
            snoozed=conversation.snoozed,
            snoozed_until=conversation.snoozed_until,
        )


def _person(pair: tuple[str, str] | None) -> dict[str, str] | None:
    return {"id": pair[0], "name": pair[1]} if pair else None


def _assignment(before: Snapshot, after: Snapshot) -> list[tuple[str, dict[str, Any]]]:
    before_id = before.agent[0] if before.agent else None
    if before_id == (after.agent[0] if after.agent else None):
        return []
    if after.agent is None:
        return [(UNASSIGNED, {"agent": _person(before.agent)})]
    return [(ASSIGNED, {"agent": _person(after.agent), "previous": _person(before.agent)})]


def _status(before: Snapshot, after: Snapshot) -> list[tuple[str, dict[str, Any]]]:
    if before.status == after.status:
        return []
    if after.status == "resolved":
        return [(RESOLVED, {})]
    if before.status in CLOSED_STATUSES and after.status not in CLOSED_STATUSES:
        return [(REOPENED, {"status": after.status})]
    return [(STATUS, {"status": after.status})]


def _tags(before: Snapshot, after: Snapshot) -> list[tuple[str, dict[str, Any]]]:
    added = sorted(set(after.tags) - set(before.tags))
    removed = sorted(set(before.tags) - set(after.tags))
    return [(TAGS, {"added": added, "removed": removed})] if added or removed else []


def _snooze(before: Snapshot, after: Snapshot) -> list[tuple[str, dict[str, Any]]]:
    if after.snoozed and (not before.snoozed or before.snoozed_until != after.snoozed_until):
        until = after.snoozed_until.isoformat() if after.snoozed_until else None
        return [(SNOOZED, {"until": until})]
    if before.snoozed and not after.snoozed and after.status not in CLOSED_STATUSES:
        return [(UNSNOOZED, {})]
    return []


def changes_between(before: Snapshot, after: Snapshot) -> list[tuple[str, dict[str, Any]]]:
    """The history lines a change from ``before`` to ``after`` writes, in reading order."""
    lines = _assignment(before, after) + _status(before, after)
    if before.priority != after.priority:
        lines.append((PRIORITY, {"priority": after.priority}))
    return lines + _tags(before, after) + _snooze(before, after)
