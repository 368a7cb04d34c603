"""Auto-assignment: conversations that need a person go round-robin to available agents.

The queue: open, not snoozed, unassigned conversations of channels with auto-assignment on,
oldest wait first, skipping those an assistant is answering (``hooks.assistant_handles``: an AI
assistant on duty that has not handed over; its hand-off makes the conversation pending, and
that puts it in the queue). The agents: members online by their own choice and present
(``accounts.presence``), each up to their capacity of open, not snoozed conversations; the
one whose last automatic assignment is oldest goes first.

The business calendar (``accounts.calendar``) holds it: on a closed date, or outside a date's
own hours, nothing is assigned automatically (conversations wait in the queue; agents can still
take them by hand). The sweep drains the queue within a minute of the workspace opening again.

Safe with many workers: each assignment is one short transaction that first takes the
workspace's advisory lock (PostgreSQL), so the load it counts is the load there is; on SQLite
a writing transaction holds the database lock anyway. The chosen conversation is assigned
only if still unassigned (a person who claimed it meanwhile keeps it). A drain assigns until
the queue is empty or everyone is full; it runs after commit whenever capacity may have freed
or a conversation may need someone (resolved, snoozed, reassigned, unassigned, handed over,
reopened, a customer message, an agent coming online, an admin's change here), and a sweep
each minute catches what a lost task missed.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.calendar import open_for_assignment
from accounts.selectors import members_available_for_assignment
from conversations import activity as history
from conversations import hooks
from conversations.activity import Activity
from conversations.models import Conversation, Message
from conversations.services import conversation_assign_automatically
from workbench.models import AgentCapacity, ChannelAssignment

# History lines after which someone may have room, or a conversation may need someone.
DRAIN_AFTER = (
    history.RESOLVED,
    history.REOPENED,
    history.STATUS,
    history.SNOOZED,
    history.UNSNOOZED,
    history.UNASSIGNED,
    history.HANDOFF,
)
# Candidates looked at per assignment: those an assistant answers are passed over.
CANDIDATES = 20
MAX_PER_DRAIN = 500
LOCK_NAMESPACE = 0x464C  # "FL": our advisory locks, apart from anyone else's


def _lock_workspace(workspace_id: Any) -> None:
    """Serialize assignments within one workspace until the transaction ends."""
    if connection.vendor != "postgresql":
        return  # SQLite: the writing transaction already holds the database lock
    key = zlib.crc32(str(workspace_id).encode()) - 2**31  # a signed 32-bit int
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, key])


def auto_channels(workspace_id: Any) -> QuerySet[ChannelAssignment]:
    return ChannelAssignment.objects.filter(workspace_id=workspace_id, auto_assign=True)


def queue(workspace_id: Any) -> QuerySet[Conversation]:
    """Conversations waiting to be given to someone, the longest-waiting first."""
    return Conversation.objects.filter(
        workspace_id=workspace_id,
        status__in=Conversation.OPEN_STATUSES,
        snoozed=False,
        assigned_agent__isnull=True,
        integration_id__in=auto_channels(workspace_id).values("integration_id"),
    ).order_by(Coalesce("waiting_since", "created_at"), "pk")


def _needing_a_person(workspace_id: Any) -> Iterator[Conversation]:
    """The first conversations of the queue no assistant is answering, each row-locked as it
    is taken (one claimed or closed meanwhile is passed over)."""
    for candidate in queue(workspace_id).select_related("integration")[:CANDIDATES]:
        if hooks.assistant_handles.ask(conversation=candidate):
            continue
        locked = (
            queue(workspace_id)
            .select_for_update(of=("self",))
            .select_related("contact", "assigned_agent")
            .filter(pk=candidate.pk)
            .first()
        )
        if locked is not None:
            yield locked


def _open_load() -> Subquery:
    counted = (
        Conversation.objects.filter(
            assigned_agent_id=OuterRef("user_id"),
            status__in=Conversation.OPEN_STATUSES,
            snoozed=False,
        )
        .order_by()
        .values("assigned_agent_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Subquery(counted)


def agent_with_room(workspace_id: Any, now: datetime) -> AgentCapacity | None:
    """The available member whose turn it is among those under capacity."""
    members = list(
        members_available_for_assignment(workspace_id=workspace_id, now=now).values_list(
            "pk", flat=True
        )
    )
    if not members:
        return None
    AgentCapacity.objects.bulk_create(
        [AgentCapacity(user_id=pk, workspace_id=workspace_id) for pk in members],
        ignore_conflicts=True,
    )
    return (
        AgentCapacity.objects.filter(user_id__in=members)
        .annotate(load=Coalesce(_open_load(), Value(0)))
        .filter(load__lt=F("capacity"))
        .order_by(F("last_assigned_at").asc(nulls_first=True), "user_id")
        .select_related("user")
        .first()
    )


@transaction.atomic
def assign_next(*, workspace_id: Any, now: datetime | None = None) -> Conversation | None:
    """Give the longest-waiting conversation to the agent whose turn it is; None when the
    queue is empty (for agents) or everyone is full."""
    now = now or timezone.now()
    if not open_for_assignment(workspace_id=workspace_id, instant=now):
        return None
    _lock_workspace(workspace_id)
    slot = agent_with_room(workspace_id, now)
    if slot is None:
        return None
    for conversation in _needing_a_person(workspace_id):
        assigned = conversation_assign_automatically(conversation=conversation, agent=slot.user)
        if assigned is not None:
            AgentCapacity.objects.filter(pk=slot.pk).update(last_assigned_at=now)
            return assigned
    return None


def assignment_drain(*, workspace_id: Any, now: datetime | None = None) -> list[Conversation]:
    """Assign until the queue is empty or nobody has room; what was assigned, in order."""
    assigned: list[Conversation] = []
    while len(assigned) < MAX_PER_DRAIN:
        conversation = assign_next(workspace_id=workspace_id, now=now)
        if conversation is None:
            break
        assigned.append(conversation)
    return assigned


def assignment_sweep(*, now: datetime | None = None) -> int:
    """Drain every workspace with auto-assignment on (the beat task's safety net, every
    minute: also what assigns the waiting queue once a holiday or a date's closed hours end)."""
    workspaces = (
        ChannelAssignment.objects.filter(auto_assign=True)
        .values_list("workspace_id", flat=True)
        .distinct()
    )
    return sum(len(assignment_drain(workspace_id=pk, now=now)) for pk in workspaces)


# --- when to drain -------------------------------------------------------------------------------


def drain_key(workspace_id: Any) -> str:
    return f"assignment-drain:{workspace_id}"


def drain_on_commit(workspace_id: Any) -> None:
    """Drain the workspace's queue once this transaction commits (one pending task at a time:
    the task clears the mark before it reads, so a later change is never missed)."""
    from workbench.tasks import drain_assignment_queue_task

    def enqueue() -> None:
        if cache.add(drain_key(workspace_id), 1, timeout=60):
            drain_assignment_queue_task.delay(str(workspace_id))

    transaction.on_commit(enqueue, robust=True)


def drain_on_activity(*, conversation: Conversation, activity: Activity) -> None:
    """``activity_recorded``: capacity may have freed, or the conversation needs someone."""
    reassigned = activity.kind == history.ASSIGNED and activity.data.get("previous")
    wanted = activity.kind in DRAIN_AFTER or reassigned
    if wanted and auto_channels(conversation.workspace_id).exists():
        drain_on_commit(conversation.workspace_id)


def drain_on_customer_messages(
    *, messages: Sequence[Message], conversations: Mapping[Any, Conversation]
) -> None:
    """``customer_messages_stored``: new (or reopened) unassigned conversations wait."""
    waiting = [c for c in conversations.values() if c.assigned_agent_id is None]
    channels = {c.integration_id for c in waiting if c.integration_id}
    if (
        channels
        and ChannelAssignment.objects.filter(
            Q(integration_id__in=channels), auto_assign=True
        ).exists()
    ):
        drain_on_commit(waiting[0].workspace_id)


def drain_on_member_available(*, user_ids: Sequence[Any]) -> None:
    """``member_available``: an agent came online or back."""
    from accounts.models import User

    for workspace_id in set(
        User.objects.filter(pk__in=user_ids).values_list("workspace_id", flat=True)
    ):
        if workspace_id and auto_channels(workspace_id).exists():
            drain_on_commit(workspace_id)
