from __future__ import annotations

from celery import shared_task
from django.db import transaction


@shared_task(acks_late=True)
def dispatch_webhooks_task() -> int:
    """Beat: the core's new events become deliveries, each sent on the outbound queue."""
    from outgoing_webhooks.services import deliveries_dispatch

    with transaction.atomic():
        made = deliveries_dispatch()
        transaction.on_commit(lambda: _send_all(made), robust=True)
    return len(made)


@shared_task(acks_late=True)
def sweep_webhook_deliveries_task() -> int:
    """Beat: retries that are due, and tries a lost task never made."""
    from outgoing_webhooks.services import deliveries_due

    due = deliveries_due()
    _send_all(due)
    return len(due)


def _send_all(delivery_ids: list[str]) -> None:
    for delivery_id in delivery_ids:
        deliver_webhook_task.delay(delivery_id)


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def deliver_webhook_task(delivery_id: str) -> str | None:
    """One try (a task run twice tries once: the delivery is claimed)."""
    from outgoing_webhooks.services import delivery_attempt

    delivery = delivery_attempt(delivery_id=delivery_id)
    return delivery.status if delivery is not None else None
