from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def prune_events_task() -> int:
    from conversations.services import events_prune

    return events_prune()
