"""Webhook events: stored at receipt, processed by the ``ingest`` queue.

Receipt (in the request): one INSERT of the raw body, then 200. Processing (in a task): claim
the event by conditional update, let the platform's parser turn the body into normalized items,
apply each item through an idempotent conversations service. Because every service is
idempotent on the platform ids, processing an event again — a redelivered task, a retry after a
crash, a second worker — changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from conversations import services as conversation_services
from conversations.services import InboundMessage
from flame.logging import redact_text
from integrations.models import Integration, WebhookEvent
from integrations.providers import base, provider_client, provider_parser

logger = logging.getLogger(__name__)

HEADERS_KEPT = ("Content-Type", "User-Agent", "X-Hub-Signature-256", "X-Forwarded-For")
# A receipt can arrive before delivery stored the id it refers to; give delivery this long.
UNMATCHED_GRACE = timedelta(minutes=2)
UNMATCHED_RETRY_SECONDS = 15
STALE_PROCESSING = timedelta(minutes=10)
LAST_WEBHOOK_GRANULARITY = timedelta(seconds=30)


def _kept_headers(headers) -> dict[str, str]:
    return {name: headers[name] for name in HEADERS_KEPT if name in headers}


def webhook_event_store(
    *, platform: str, body: bytes, headers, integrations: list[Integration]
) -> WebhookEvent | None:
    """Persist a verified delivery and enqueue it; None when the identical body is stored already.

    Raises DatabaseError when the row cannot be written: the view then answers 503 so the
    platform retries instead of losing the update.
    """
    from integrations.tasks import ingest_webhook_event_task

    workspaces = {integration.workspace_id for integration in integrations}
    event = WebhookEvent(
        platform=platform,
        body=body,
        body_sha256=hashlib.sha256(body).hexdigest(),
        headers=_kept_headers(headers),
        verified_integration_ids=[str(integration.pk) for integration in integrations],
        integration=integrations[0] if len(integrations) == 1 else None,
        workspace_id=workspaces.pop() if len(workspaces) == 1 else None,
    )
    try:
        with transaction.atomic():
            event.save()
            transaction.on_commit(lambda: ingest_webhook_event_task.delay(event.pk), robust=True)
    except IntegrityError:
        return None  # the platform re-sent a body we already have
    return event


# --- processing ---


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_in: float | None = None


def _claim(event_id: int) -> WebhookEvent | None:
    claimed = WebhookEvent.objects.filter(pk=event_id, status=WebhookEvent.Status.RECEIVED).update(
        status=WebhookEvent.Status.PROCESSING,
        attempts=F("attempts") + 1,
        processing_started_at=timezone.now(),
    )
    return WebhookEvent.objects.get(pk=event_id) if claimed else None


def _finish(event: WebhookEvent, status: str, *, error: str = "", items: int = 0) -> Outcome:
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=status, error=error[:2000], items_count=items, processed_at=timezone.now()
    )
    return Outcome(status=status)


def _routing(event: WebhookEvent) -> dict[str, Integration]:
    """Account id → integration, limited to the integrations that verified this body."""
    # A disconnected channel is acknowledged (Meta would retry for days) but not ingested.
    integrations = Integration.objects.filter(pk__in=event.verified_integration_ids).exclude(
        status=Integration.Status.INACTIVE
    )
    return {i.external_account_id: i for i in integrations if i.external_account_id}


def _apply(integration: Integration, item: base.Item) -> bool:
    """Apply one item; False when it refers to a message we do not have (yet)."""
    if isinstance(item, InboundMessage):
        conversation_services.message_receive_inbound(integration=integration, inbound=item)
        return True
    if isinstance(item, base.StatusUpdate):
        return conversation_services.message_status_from_channel(
            integration=integration,
            external_id=item.external_id,
            status=item.status,
            error_code=item.error_code,
            error_message=item.error_message,
        )
    if isinstance(item, base.WatermarkUpdate):
        conversation_services.messages_apply_watermark(
            integration=integration,
            external_contact_id=item.external_contact_id,
            status=item.status,
            watermark=item.watermark,
        )
        return True
    return _apply_change(integration, item)


def _apply_change(integration: Integration, item: base.Item) -> bool:
    if isinstance(item, base.Reaction):
        return conversation_services.message_react(
            integration=integration,
            target_external_id=item.target_external_id,
            reactor=item.external_contact_id,
            emoji=item.emoji,
        )
    if isinstance(item, base.Edit):
        return conversation_services.message_edit_from_channel(
            integration=integration,
            target_external_id=item.target_external_id,
            content=item.content,
        )
    if isinstance(item, base.Deletion):
        return conversation_services.message_delete_from_channel(
            integration=integration, target_external_id=item.target_external_id
        )
    if isinstance(item, base.Echo):
        conversation_services.message_record_echo(integration=integration, echo=item)
        return True
    if isinstance(item, base.ContactBlocked):
        conversation_services.contact_identity_flag(
            integration=integration, external_id=item.external_contact_id, blocked=item.blocked
        )
        return True
    return True  # CallbackAnswer: handled after the writes, outside any transaction


def _answer_callbacks(routed: list[tuple[Integration, base.Item]]) -> None:
    for integration, item in routed:
        if not isinstance(item, base.CallbackAnswer):
            continue
        client = provider_client(integration.platform)
        try:
            client.answer_callback(integration=integration, callback_id=item.callback_id)
        except base.SendError:
            logger.warning(
                "Could not answer a callback query", extra={"integration_id": str(integration.pk)}
            )


def _touch_last_webhook(integrations, at) -> None:
    """Keep ``last_webhook_at`` roughly current without a write per webhook: every delivery
    updating the same integration row would serialise concurrent workers on its lock."""
    Integration.objects.filter(pk__in=[integration.pk for integration in integrations]).filter(
        Q(last_webhook_at__isnull=True) | Q(last_webhook_at__lt=at - LAST_WEBHOOK_GRANULARITY)
    ).update(last_webhook_at=at)


def _routed_items(event: WebhookEvent) -> list[tuple[Integration, base.Item]]:
    routing = _routing(event)
    _touch_last_webhook(routing.values(), event.received_at)
    parser = provider_parser(event.platform)
    payload = json.loads(bytes(event.body))
    if not isinstance(payload, dict):
        raise ValueError("The webhook body is not a JSON object.")
    routed = parser.parse(payload, account_ids=set(routing))
    return [(routing[r.account_id], r.item) for r in routed if r.account_id in routing]


def _should_wait_for_unmatched(event: WebhookEvent, unmatched: int) -> bool:
    return unmatched > 0 and timezone.now() - event.received_at < UNMATCHED_GRACE


def webhook_event_process(*, event_id: int, wait_for_unmatched: bool = True) -> Outcome:
    event = _claim(event_id)
    if event is None:
        return Outcome(status="skipped")  # processed already, or another worker has it
    try:
        routed = _routed_items(event)
    except (ValueError, UnicodeDecodeError) as exc:  # malformed JSON: nothing was written
        logger.warning("Webhook event %s is malformed", event.pk, extra={"error": str(exc)})
        return _finish(event, WebhookEvent.Status.FAILED, error=f"Malformed body: {exc}")
    if not routed:
        return _finish(event, WebhookEvent.Status.IGNORED)
    unmatched = sum(1 for integration, item in routed if not _apply(integration, item))
    if wait_for_unmatched and _should_wait_for_unmatched(event, unmatched):
        # Receipts for messages whose send has not stored its id yet: process again shortly.
        WebhookEvent.objects.filter(pk=event.pk).update(status=WebhookEvent.Status.RECEIVED)
        return Outcome(status=WebhookEvent.Status.RECEIVED, retry_in=UNMATCHED_RETRY_SECONDS)
    _answer_callbacks(routed)
    return _finish(event, WebhookEvent.Status.PROCESSED, items=len(routed))


def webhook_event_fail(*, event_id: int, error: str) -> None:
    """Record an unexpected processing error (the task gave up retrying)."""
    WebhookEvent.objects.filter(pk=event_id).update(
        status=WebhookEvent.Status.FAILED,
        error=redact_text(error)[:2000],
        processed_at=timezone.now(),
    )


def webhook_events_release(*, event_id: int) -> None:
    """Put a claimed event back to ``received`` so a retry can claim it again."""
    WebhookEvent.objects.filter(pk=event_id, status=WebhookEvent.Status.PROCESSING).update(
        status=WebhookEvent.Status.RECEIVED
    )


def webhook_events_retry(*, events) -> int:
    """Failed events back to ``received`` and onto the queue (admin action / API)."""
    from integrations.tasks import ingest_webhook_event_task

    ids = list(events.filter(status=WebhookEvent.Status.FAILED).values_list("pk", flat=True))
    WebhookEvent.objects.filter(pk__in=ids, status=WebhookEvent.Status.FAILED).update(
        status=WebhookEvent.Status.RECEIVED, error=""
    )
    for event_id in ids:
        transaction.on_commit(lambda event_id=event_id: ingest_webhook_event_task.delay(event_id))
    return len(ids)


def webhook_events_sweep(*, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Re-enqueue events nobody is processing: left ``received`` (broker down) or a claim whose
    worker died mid-way (``processing`` for longer than any task may run)."""
    from integrations.tasks import ingest_webhook_event_task

    now = timezone.now()
    WebhookEvent.objects.filter(
        status=WebhookEvent.Status.PROCESSING, processing_started_at__lt=now - STALE_PROCESSING
    ).update(status=WebhookEvent.Status.RECEIVED)
    stuck = list(
        WebhookEvent.objects.filter(
            status=WebhookEvent.Status.RECEIVED, received_at__lt=now - older_than
        ).values_list("pk", flat=True)[:1000]
    )
    for event_id in stuck:
        ingest_webhook_event_task.delay(event_id)
    return len(stuck)


def sandbox_message_store(
    *, integration: Integration, sender: str, name: str, text: str, message_id: str
) -> WebhookEvent | None:
    """A simulated customer message, stored and processed like any platform's webhook."""
    body = json.dumps(
        {"id": message_id, "from": sender, "name": name, "text": text}, ensure_ascii=False
    ).encode()
    return webhook_event_store(
        platform=integration.platform, body=body, headers={}, integrations=[integration]
    )
