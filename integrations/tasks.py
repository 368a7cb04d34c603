from __future__ import annotations

import logging
import random
import time

from celery import shared_task
from django.db import InterfaceError, OperationalError

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, max_retries=8, soft_time_limit=120, time_limit=150)
def ingest_webhook_event_task(self, event_id: int, held_claim: str = "") -> dict:
    """Process a stored webhook event, with a batch of other pending ones (queue ``ingest``).

    Safe to run any number of times: claims are conditional updates and every item is applied
    idempotently. Receipts waiting for their message are re-queued by ingestion itself.
    ``held_claim``: a claim an earlier try could not release, released first.
    """
    from integrations import ingest

    ingest.ingest_trigger_clear()  # before claiming: later webhooks trigger a new task
    try:
        ingest.claim_release(held_claim)
        return ingest.webhook_events_process(
            event_id=event_id, wait_for_unmatched=not self.request.is_eager
        )
    except (OperationalError, InterfaceError) as exc:
        # The database blinked: the batch was released (or its claim goes with the retry);
        # items already applied are no-ops.
        if self.request.is_eager or self.request.retries >= self.max_retries:
            raise
        held = getattr(exc, "claim_token", held_claim)
        raise self.retry(
            exc=exc, countdown=_backoff(self.request.retries), kwargs={"held_claim": held}
        ) from exc


def _backoff(attempt: int) -> float:
    return min(300.0, 2.0 ** (attempt + 1)) * random.uniform(0.5, 1.5)  # noqa: S311 - jitter


@shared_task(acks_late=True)
def sweep_webhook_events_task() -> int:
    from integrations import ingest

    return ingest.webhook_events_sweep()


@shared_task(bind=True, acks_late=True, max_retries=None, soft_time_limit=60, time_limit=90)
def deliver_message_task(self, message_id: str, attempt: int = 0) -> str:
    """Send one queued message (queue ``outbound``); see integrations.delivery."""
    from integrations import delivery

    outcome = delivery.message_deliver(message_id=message_id, attempt=attempt)
    if outcome.retry_in is not None:
        if self.request.is_eager:
            # Inline mode (embedded default, tests) has no broker to hold a countdown.
            time.sleep(min(outcome.retry_in, 0.25))
        deliver_message_task.apply_async(
            args=[message_id], kwargs={"attempt": outcome.next_attempt}, countdown=outcome.retry_in
        )
    return outcome.status


@shared_task(bind=True, acks_late=True, max_retries=None, soft_time_limit=300, time_limit=360)
def download_attachment_task(self, attachment_id: str) -> str:
    """Download one customer's file (queue ``media``); see integrations.media."""
    from integrations import media

    outcome = media.attachment_download(attachment_id=attachment_id)
    if outcome.retry_in is not None:
        if self.request.is_eager:
            # Inline mode (embedded default, tests) has no broker to hold a countdown.
            time.sleep(min(outcome.retry_in, 0.25))
        download_attachment_task.apply_async(args=[attachment_id], countdown=outcome.retry_in)
    return outcome.status


@shared_task(acks_late=True)
def sweep_attachment_downloads_task() -> int:
    from integrations import media

    return media.attachment_downloads_sweep()


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def sync_message_templates_task(integration_id: str | None = None) -> int:
    """Sync the message templates of one channel, or (periodically) queue every channel that
    has them; see integrations.templates."""
    from integrations import templates

    if integration_id is None:
        return templates.templates_sync_schedule()
    return templates.templates_sync_by_id(integration_id=integration_id)
