from __future__ import annotations

import logging
import random
import time

from celery import shared_task
from django.db import DatabaseError

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, max_retries=8, soft_time_limit=60, time_limit=90)
def ingest_webhook_event_task(self, event_id: int) -> str:
    """Process one stored webhook event (queue ``ingest``); safe to run any number of times."""
    from integrations import ingest

    final_try = self.request.is_eager or self.request.retries >= self.max_retries
    try:
        outcome = ingest.webhook_event_process(event_id=event_id, wait_for_unmatched=not final_try)
    except DatabaseError as exc:
        # The database blinked mid-way: release the claim; items already applied are no-ops.
        ingest.webhook_events_release(event_id=event_id)
        if final_try:
            ingest.webhook_event_fail(event_id=event_id, error=f"Database error: {exc}")
            raise
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    except Exception as exc:
        logger.exception("Webhook event %s failed", event_id)
        ingest.webhook_event_fail(event_id=event_id, error=f"{type(exc).__name__}: {exc}")
        raise
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


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
