from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def prune_events_task() -> int:
    from conversations.services import events_prune

    return events_prune()


@shared_task(acks_late=True)
def wake_snoozed_task() -> int:
    from conversations.services import conversations_wake_snoozed

    return conversations_wake_snoozed()
