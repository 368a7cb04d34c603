"""The workbench's background work: draining the assignment queue, the minute's sweeps, and
the notification e-mails (sent outside any transaction)."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache


@shared_task(acks_late=True)
def drain_assignment_queue_task(workspace_id: str) -> int:
    from workbench.services import assignment_drain
    from workbench.services.assignment import drain_key

    # Cleared before reading: a change committed from now on enqueues its own drain.
    cache.delete(drain_key(workspace_id))
    return len(assignment_drain(workspace_id=workspace_id))


@shared_task(acks_late=True)
def assignment_sweep_task() -> int:
    from workbench.services import assignment_sweep

    return assignment_sweep()


@shared_task(acks_late=True)
def waiting_alerts_task() -> int:
    from workbench.services import waiting_alerts_record

    return waiting_alerts_record()


@shared_task(acks_late=True)
def notification_emails_task() -> int:
    """Claim every due digest (each claimed once), then send them, one e-mail per member."""
    from workbench.services import notification_emails_claim

    digests = notification_emails_claim()
    for user_id, notification_ids in digests.items():
        send_notification_digest_task.delay(user_id, notification_ids)
    return len(digests)


@shared_task(
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def send_notification_digest_task(user_id: str, notification_ids: list[str]) -> None:
    from workbench.emails import send_digest

    send_digest(user_id=user_id, notification_ids=notification_ids)
