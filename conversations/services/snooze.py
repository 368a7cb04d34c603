"""Snoozing: an open conversation leaves the open list until a time, or until the customer
writes again (a customer message wakes it either way: ``counters.count_customer_messages``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from conversations import activity
from conversations.models import Conversation
from conversations.services.activity import activities_record, activity_record, stored_state
from conversations.services.conversations import ensure_can_act
from conversations.services.events import conversation_updated
from flame.exceptions import ConflictError, InvalidInput

# Further than this is not a snooze but a way of losing a conversation.
MAX_SNOOZE = timedelta(days=366)
WAKE_BATCH = 500


def _check_until(until: datetime | None) -> None:
    if until is None:
        return
    now = timezone.now()
    if until <= now:
        raise InvalidInput("Invalid input.", details={"until": ["Must be in the future."]})
    if until > now + MAX_SNOOZE:
        raise InvalidInput("Invalid input.", details={"until": ["At most a year from now."]})


@transaction.atomic
def conversation_snooze(
    *, by: User, conversation: Conversation, until: datetime | None
) -> Conversation:
    """Hide an open conversation until ``until`` (None: until the customer writes)."""
    ensure_can_act(by=by, conversation=conversation)
    _check_until(until)
    if conversation.status not in Conversation.OPEN_STATUSES:
        raise ConflictError("Only open conversations can be snoozed.", code="not_open")
    before = stored_state(conversation)
    Conversation.objects.filter(pk=conversation.pk).update(
        snoozed=True, snoozed_until=until, updated_at=timezone.now()
    )
    fresh = conversation_updated(conversation)
    activities_record(before=before, conversation=fresh, by=by)
    return fresh


@transaction.atomic
def conversation_unsnooze(*, by: User, conversation: Conversation) -> Conversation:
    ensure_can_act(by=by, conversation=conversation)
    if not conversation.snoozed:
        return conversation
    before = stored_state(conversation)
    _wake(conversation)
    fresh = conversation_updated(conversation)
    activities_record(before=before, conversation=fresh, by=by)
    return fresh


def _wake(conversation: Conversation) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(
        snoozed=False, snoozed_until=None, updated_at=timezone.now()
    )


@transaction.atomic
def conversations_wake_snoozed(*, now: datetime | None = None) -> int:
    """Bring back every conversation whose snooze time has come (the beat task). Rows another
    worker is waking are skipped, so two sweeps never wake one twice."""
    due = (
        Conversation.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("contact", "assigned_agent", "assigned_assistant")
        .filter(snoozed=True, snoozed_until__lte=now or timezone.now())
        .order_by("snoozed_until")[:WAKE_BATCH]
    )
    woken = 0
    for conversation in due:
        _wake(conversation)
        fresh = conversation_updated(conversation)
        activity_record(conversation=fresh, kind=activity.UNSNOOZED, reason="time")
        woken += 1
    return woken
