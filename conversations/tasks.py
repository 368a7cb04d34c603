from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, max_retries=0)
def deliver_message_task(message_id: str) -> None:
    """Hand one queued outbound message to its channel (queue ``outbound``, see settings)."""
    from integrations.delivery import message_deliver

    message_deliver(message_id=message_id)


@shared_task(acks_late=True)
def prune_events_task() -> int:
    from conversations.services import events_prune

    return events_prune()
