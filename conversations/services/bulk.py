"""One change applied to many conversations at once (the inbox's selection): all or nothing.

Each conversation goes through the same service as a change made to it alone, so the rules,
the realtime events and the history lines are those of that change, one set per
conversation; one transaction holds them all, so a refusal for any leaves every one as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from accounts.models import User
from conversations.models import Conversation
from conversations.services.conversations import _UNSET, conversation_assign, conversation_update
from conversations.services.snooze import conversation_snooze

ASSIGN = "assign"
STATUS = "status"
PRIORITY = "priority"
ADD_TAG = "add_tag"
REMOVE_TAG = "remove_tag"
SNOOZE = "snooze"
ACTIONS = (ASSIGN, STATUS, PRIORITY, ADD_TAG, REMOVE_TAG, SNOOZE)


@dataclass(frozen=True)
class BulkChange:
    """What to do to each conversation: ``action`` and the value it needs."""

    action: str
    agent: Any = _UNSET  # assign: a member, or None to unassign
    status: str = ""
    priority: str = ""
    tag: str = ""
    until: datetime | None = None  # snooze: None means until the customer writes


def _tag_names(conversation: Conversation) -> list[str]:
    return [tag.name for tag in conversation.tags.all()]


def _with_tag(conversation: Conversation, tag: str) -> list[str]:
    names = _tag_names(conversation)
    known = {name.casefold() for name in names}
    return names if tag.casefold() in known else [*names, tag]


def _without_tag(conversation: Conversation, tag: str) -> list[str]:
    return [name for name in _tag_names(conversation) if name.casefold() != tag.casefold()]


def _apply(by: User, conversation: Conversation, change: BulkChange) -> Conversation:
    if change.action == ASSIGN:
        return conversation_assign(by=by, conversation=conversation, agent=change.agent)
    if change.action == SNOOZE:
        return conversation_snooze(by=by, conversation=conversation, until=change.until)
    if change.action in (ADD_TAG, REMOVE_TAG):
        tags = (_with_tag if change.action == ADD_TAG else _without_tag)(conversation, change.tag)
        if tags == _tag_names(conversation):
            return conversation  # nothing to change: its tags stay the AI's if they were
        return conversation_update(by=by, conversation=conversation, tags=tags)
    edits: dict[str, dict[str, Any]] = {
        STATUS: {"status": change.status},
        PRIORITY: {"priority": change.priority},
    }
    return conversation_update(by=by, conversation=conversation, **edits[change.action])


@transaction.atomic
def conversations_bulk_update(
    *, by: User, conversations: Sequence[Conversation], change: BulkChange
) -> list[Conversation]:
    """Apply ``change`` to every conversation (locked by the caller, in id order)."""
    return [_apply(by, conversation, change) for conversation in conversations]
