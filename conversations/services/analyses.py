"""The AI's analyses of conversations, written many at a time.

``assistants/analysis.py`` decides when a conversation is analysed and asks the model; this
writes the results. An analysis's priority and tags are also the conversation's own until an
agent sets them; after that only the ai_* fields change.

A chunk of analyses costs a fixed number of round trips, not a number per conversation: the
rows are locked in one query (in id order, the order ingestion locks them in), the ai_* fields
written by one prepared UPDATE sent for every row at once (flame/bulk.py), tag changes in one
DELETE and one INSERT, and every event in one INSERT.
Written one by one, each analysis that moved a tag cost about eighteen round trips, and the
analyses were most of the worker's time under a burst.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q

from conversations import realtime
from conversations.activity import Snapshot
from conversations.models import Conversation, Event
from conversations.services.activity import ActivityLine, activity_announce, activity_lines
from conversations.services.events import conversation_updated_event, reloaded_many
from conversations.services.tags import tags_by_name, tags_load_into
from flame.bulk import rows_update

AI_FIELDS = ("ai_summary", "ai_priority", "ai_tags", "ai_analyzed_at", "priority")


@dataclass(frozen=True)
class AnalysisWrite:
    """One conversation's analysis: what the model said about it."""

    conversation_id: Any
    summary: str
    priority: str
    tags: list[str]


def conversations_lock_for_analysis(conversation_ids) -> dict:
    """{id: conversation} locked for writing analyses, in id order (ingestion's order, so the
    two never deadlock), with what the write compares: tags and assignee."""
    rows = list(
        Conversation.objects.select_for_update(of=("self",))
        .select_related("assigned_agent")
        .filter(pk__in=list(conversation_ids))
        .order_by("pk")
    )
    tags_load_into(rows)
    return {conversation.pk: conversation for conversation in rows}


def conversation_record_analysis(
    *, conversation_id, summary: str, priority: str, tags: list[str], analyzed_at
) -> None:
    """Store one analysis (the bulk path with one conversation)."""
    with transaction.atomic():
        locked = conversations_lock_for_analysis([conversation_id])
        write = AnalysisWrite(conversation_id, summary=summary, priority=priority, tags=tags)
        conversations_record_analyses(locked=locked, writes=[write], analyzed_at=analyzed_at)


def conversations_record_analyses(
    *, locked: dict, writes: list[AnalysisWrite], analyzed_at
) -> None:
    """Store ``writes`` on the conversations the caller locked in its transaction
    (``conversations_lock_for_analysis``); a conversation missing from ``locked`` is gone."""
    writes = [write for write in writes if write.conversation_id in locked]
    if not writes:
        return
    moved, retagged = [], {}
    for write in writes:
        conversation = locked[write.conversation_id]
        before = Snapshot.of(conversation)
        if _retags(conversation, write.tags):
            retagged[conversation.pk] = write.tags
        if _reprioritises(conversation, write.priority):
            conversation.priority = write.priority
        if conversation.pk in retagged or conversation.priority != before.priority:
            moved.append((conversation.pk, before))
        conversation.ai_summary = write.summary
        conversation.ai_priority = write.priority
        conversation.ai_tags = write.tags
        conversation.ai_analyzed_at = analyzed_at
    rows_update([locked[write.conversation_id] for write in writes], AI_FIELDS)
    _retag(locked, retagged)
    events, lines = _announced_changes(moved)
    realtime.events_save(
        events + [_ai_update_event(locked[write.conversation_id]) for write in writes]
    )
    for line in lines:
        activity_announce(line)


def _reprioritises(conversation: Conversation, priority: str) -> bool:
    return not conversation.priority_set_by_agent and priority != conversation.priority


def _retags(conversation: Conversation, tags: list[str]) -> bool:
    return not conversation.tags_set_by_agent and _tag_names(tags) != _tag_names(
        tag.name for tag in conversation.tags.all()
    )


def _tag_names(names) -> set[str]:
    """Names as ``tags_named`` matches them (trimmed, case-insensitive)."""
    return {name.strip().lower() for name in names if name.strip()}


def _retag(locked: dict, retagged: dict) -> None:
    """Give each conversation in ``retagged`` exactly those tags: the tags looked up once per
    workspace, then one DELETE and one INSERT for them all."""
    names_by_workspace: dict[Any, set[str]] = {}
    for conversation_id, names in retagged.items():
        workspace_id = locked[conversation_id].workspace_id
        names_by_workspace.setdefault(workspace_id, set()).update(names)
    tags = {
        workspace_id: tags_by_name(workspace_id, sorted(names))
        for workspace_id, names in names_by_workspace.items()
    }
    through = Conversation.tags.through
    removed, added = Q(), []
    for conversation_id, names in retagged.items():
        conversation = locked[conversation_id]
        named = tags[conversation.workspace_id]
        wanted = {named[name.strip()].pk for name in names if name.strip()}
        held = {tag.pk for tag in conversation.tags.all()}
        if held - wanted:
            removed |= Q(conversation_id=conversation_id, tag_id__in=held - wanted)
        added += [through(conversation_id=conversation_id, tag_id=pk) for pk in wanted - held]
    if removed:
        through.objects.filter(removed).delete()
    if added:
        through.objects.bulk_create(added, ignore_conflicts=True)


def _announced_changes(moved: list) -> tuple[list[Event], list[ActivityLine]]:
    """``conversation:updated`` and the history lines of the conversations whose priority or
    tags moved, as they are now (read back in one go), unsaved: every event in order (each
    conversation's change, then its lines), and the lines to announce once they are written."""
    if not moved:
        return [], []
    fresh = reloaded_many(pk for pk, _before in moved)
    events: list[Event] = []
    lines: list[ActivityLine] = []
    for pk, before in moved:
        conversation = fresh[pk]
        changed = activity_lines(before=before, conversation=conversation, by=None, ai=True)
        events += [conversation_updated_event(conversation), *(line.event for line in changed)]
        lines += changed
    return events, lines


def _ai_update_event(conversation: Conversation) -> Event:
    return realtime.conversation_event_build(
        conversation=conversation,
        kind="conversation:ai:update",
        payload={
            "conversation_id": str(conversation.pk),
            "ai_summary": conversation.ai_summary,
            "ai_priority": conversation.ai_priority,
            "ai_tags": conversation.ai_tags,
            "ai_analyzed_at": (
                conversation.ai_analyzed_at.isoformat() if conversation.ai_analyzed_at else None
            ),
        },
    )
