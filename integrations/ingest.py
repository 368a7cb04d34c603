"""Webhook events: stored at receipt, processed by the ``ingest`` queue.

Receipt (in the request): one INSERT of the raw body, then 200. Processing (in a task): claim
the event by conditional update, let the platform's parser turn the body into normalized items,
apply each item through an idempotent conversations service. Because every service is
idempotent on the platform ids, processing an event again — a redelivered task, a retry after a
crash, a second worker — changes nothing.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.db.models import F, Q
from django.utils import timezone

from conversations import services as conversation_services
from conversations.types import InboundMessage
from flame import backpressure, metrics
from flame.bulk import row_insert_new
from flame.logging import redact_text
from flame.text import storable
from integrations import media, templates, trigger
from integrations.inbound import customer_messages_receive
from integrations.models import Integration, WebhookEvent
from integrations.providers import base, provider_client, provider_parser, routing_ids

logger = logging.getLogger(__name__)

HEADERS_KEPT = ("Content-Type", "User-Agent", "X-Hub-Signature-256", "X-Forwarded-For")
# A receipt can arrive before delivery stored the id it refers to; give delivery this long.
UNMATCHED_GRACE = timedelta(minutes=2)
UNMATCHED_RETRY_SECONDS = 15
# A claim is a lease: the claiming worker renews it every LEASE_RENEW_SECONDS while it works,
# and once it has run out the sweeper (every SWEEP_SECONDS) hands the events to another worker,
# so a killed worker's events wait at most CLAIM_LEASE + SWEEP_SECONDS.
CLAIM_LEASE = timedelta(seconds=30)
LEASE_RENEW_SECONDS = 10
# Claims made before leases existed carry none: they are taken over after this long.
UNLEASED_CLAIM_TIMEOUT = timedelta(minutes=10)
INGEST_BATCH_SIZE = 100
# A batch this large means messages arrive faster than batches finish (a burst): background work
# waits for ingestion meanwhile (flame.backpressure). Below ~80 messages a second batches stay
# smaller.
BACKLOG_EVENTS = 10
INGEST_TRIGGER_KEY = "ingest:trigger-pending"
INGEST_TRIGGER_TTL = 30
# Under sustained traffic the task that drains the stored webhooks starts this much later, so it
# finds a batch worth its fixed cost (measured: about 15 ms of the worker's CPU a batch, against
# 0.9 ms a message). Each process of the web server estimates its own arrival rate; below
# INGEST_LINGER_FROM_RATE webhooks a second (in that process) every message is processed at once.
INGEST_LINGER_SECONDS = 0.2
INGEST_LINGER_FROM_RATE = 40.0
# A drain task starts within its linger of being asked for unless something holds it up: the
# pool process it was handed to being replaced, a worker that died with it reserved, a worker
# too busy to start it. Found pending for this long, another is asked for (PendingWatch).
INGEST_TRIGGER_OVERDUE_SECONDS = 1.0
LAST_WEBHOOK_GRANULARITY = timedelta(seconds=30)


def _kept_headers(headers) -> dict[str, str]:
    return {name: headers[name] for name in HEADERS_KEPT if name in headers}


def webhook_event_store(
    *, platform: str, body: bytes, headers, integrations: list
) -> WebhookEvent | None:
    """Persist a verified delivery and enqueue it; None when the identical body is stored already.

    ``integrations`` are the ones that verified the body (anything with ``pk`` and
    ``workspace_id``). Raises DatabaseError when the row cannot be written: the view then
    answers 503 so the platform retries instead of losing the update.
    """

    workspaces = {integration.workspace_id for integration in integrations}
    event = WebhookEvent(
        platform=platform,
        body=body,
        body_sha256=hashlib.sha256(body).hexdigest(),
        headers=_kept_headers(headers),
        verified_integration_ids=[str(integration.pk) for integration in integrations],
        integration_id=integrations[0].pk if len(integrations) == 1 else None,
        workspace_id=workspaces.pop() if len(workspaces) == 1 else None,
    )
    if not row_insert_new(event):
        return None  # the platform re-sent a body we already have
    transaction.on_commit(lambda: _trigger_ingest(event.pk), robust=True)
    return event


def _batching() -> bool:
    """Whether one task may claim many events: only where rows can be locked and skipped."""
    return connection.features.has_select_for_update_skip_locked


class ArrivalRate:
    """Webhooks a second stored by this process lately: the inverse of an exponentially
    weighted mean of the gaps between them (about the last 1/WEIGHT arrivals count)."""

    WEIGHT = 0.05

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: float | None = None
        self._gap = float("inf")

    def arrived(self, now: float) -> float:
        with self._lock:
            if self._last is not None:
                # An idle hour counts as an idle second: the estimate follows a burst at once.
                gap = min(max(now - self._last, 0.0), 1.0)
                self._gap = (
                    gap
                    if self._gap == float("inf")
                    else self._gap + self.WEIGHT * (gap - self._gap)
                )
            self._last = now
            return 1.0 / self._gap if self._gap > 0 else float("inf")


_arrivals = ArrivalRate()


def ingest_linger(rate: float) -> float | None:
    """How long the drain task waits before claiming, at this arrival rate (None: not at all)."""
    return INGEST_LINGER_SECONDS if rate >= INGEST_LINGER_FROM_RATE else None


def _trigger_ingest(event_id: int) -> None:
    """Enqueue processing, unless a task that has not started yet will pick this event up.

    Publishing a Celery task per webhook cost more than storing it. A pending task drains every
    event committed before it starts (it clears the key first, then claims), so an event whose
    trigger was skipped is never stranded; the sweeper is the safety net if a task is lost.
    Under sustained traffic the task is held back a little (``ingest_linger``) so it claims a
    batch rather than the one or two events that arrived since the last one started. Where a
    worker runs the tasks, this process's trigger thread asks for all its webhooks at once
    (integrations/trigger.py); where they run inline, the request asks itself.
    """
    linger = ingest_linger(_arrivals.arrived(time.monotonic()))
    if _batching() and not _tasks_inline():
        _process_trigger.request(event_id, linger)
    else:
        _trigger_now(event_id, linger)


class PendingWatch:
    """Since when this process has found a drain task pending, without once finding none.

    Skipping the ask while one is pending is what keeps a burst to a few tasks, but it trusts
    that task to start. When it is held up, every webhook stored meanwhile waits with it: a
    pool process being replaced kept one waiting 4.2 s on the webhook bench, and a worker
    killed with one reserved, until the pending mark expired (INGEST_TRIGGER_TTL). Found
    pending for ``overdue`` seconds, the trigger asks for another task, which any free worker
    process can run; the held one, when it starts, claims what has come since (or nothing).
    At most one such ask per ``overdue`` seconds per process.
    """

    def __init__(self, overdue: float) -> None:
        self._overdue = overdue
        self._lock = threading.Lock()
        self._since: float | None = None

    def still_pending(self, now: float) -> bool:
        """A task was found pending at ``now``: True when it is overdue (ask for another)."""
        with self._lock:
            if self._since is None:
                self._since = now
                return False
            if now - self._since < self._overdue:
                return False
            self._since = now  # the next extra ask, if this one is held up too
            return True

    def none_pending(self) -> None:
        with self._lock:
            self._since = None


_pending = PendingWatch(INGEST_TRIGGER_OVERDUE_SECONDS)


def _trigger_now(event_id: int, linger: float | None) -> float:
    """Ask for a drain task for ``event_id``; how long, from now, no other ask is needed."""
    from integrations.tasks import ingest_webhook_event_task

    try:
        if _batching() and _task_pending():
            if not _pending.still_pending(time.monotonic()):
                return trigger.RECHECK_SECONDS  # it may start any moment
            logger.info("The pending ingest task has not started; asking for another")
            metrics.INGEST_OVERDUE_ASKS.inc()
            linger = None  # overdue already: at once
        # No publish retries: with the broker away the webhook is answered at once, and the
        # sweeper enqueues the stored event when the broker is back.
        ingest_webhook_event_task.apply_async((event_id,), countdown=linger, retry=False)
    except Exception:  # noqa: BLE001 - Redis (cache or broker) away: the event is stored
        logger.warning("Could not enqueue webhook event %s; the sweeper will", event_id)
        return trigger.AWAY_SECONDS
    # It cannot start before its countdown: until half of it (whatever the clocks' skew
    # between hosts), events committed now are claimed by it.
    return linger / 2 if linger else 0.0


def _tasks_inline() -> bool:
    from integrations.tasks import ingest_webhook_event_task

    return bool(ingest_webhook_event_task.app.conf.task_always_eager)


_process_trigger = trigger.ProcessTrigger(_trigger_now)


def _task_pending() -> bool:
    """Whether a drain task that has not started yet is on its way; if not, one is marked."""
    if _trigger_taken():
        _pending.none_pending()
        return False
    return True


def _trigger_taken() -> bool:
    """Mark a drain task as on its way; False when one that has not started yet is already."""
    return bool(cache.add(INGEST_TRIGGER_KEY, 1, timeout=INGEST_TRIGGER_TTL))


def ingest_trigger_clear() -> None:
    cache.delete(INGEST_TRIGGER_KEY)


# --- processing ---


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_in: float | None = None


def _claimable() -> Q:
    now = timezone.now()
    return Q(status=WebhookEvent.Status.RECEIVED) & (
        Q(not_before__isnull=True) | Q(not_before__lte=now)
    )


def _claim_batch(event_id: int) -> list[WebhookEvent]:
    """Claim ``event_id`` and, where the database can skip locked rows, other pending events.

    One claim (and one task) for up to INGEST_BATCH_SIZE events instead of one each; SKIP
    LOCKED lets concurrent workers take disjoint batches. The conditional update is what makes
    each event claimed by exactly one worker.
    """
    token = uuid.uuid4()
    now = timezone.now()
    if _batching():
        return _claim_with_pending(event_id, token, now)
    # One process, one worker (SQLite): nothing to share the event with.
    WebhookEvent.objects.filter(pk=event_id, status=WebhookEvent.Status.RECEIVED).update(
        status=WebhookEvent.Status.PROCESSING,
        attempts=F("attempts") + 1,
        processing_started_at=now,
        lease_expires_at=now + CLAIM_LEASE,
        claim_token=token,
    )
    claimed = WebhookEvent.objects.filter(claim_token=token, status=WebhookEvent.Status.PROCESSING)
    return list(claimed)


# The batch claim as one statement: the pending events are picked and locked (skipping rows
# another worker holds) in subqueries, marked, and returned. As three ORM statements in a
# transaction (lock, mark, read back) it cost five round trips and three query compilations
# per batch, a fixed cost that dominated small batches under a steady rate.
# The UPDATE is given the keys alone (the subqueries checked the status under the lock), so
# it finds the rows by primary key whatever the planner believes about the table. Written as
# "status = 'received' AND (id = %s OR id IN (subquery))" it could not: with statistics from
# before a burst, PostgreSQL read the whole table for every claim, and with fresh ones every
# pending event of a backlog.
_CLAIM_SQL = """
UPDATE {table} SET
    {status} = %s, {attempts} = {attempts} + 1, {started} = %s, {lease} = %s, {token} = %s
WHERE {id} = ANY(
    ARRAY(SELECT {id} FROM {table} WHERE {id} = %s AND {status} = %s FOR UPDATE SKIP LOCKED)
    || ARRAY(
        SELECT {id} FROM {table}
        WHERE {status} = %s AND ({not_before} IS NULL OR {not_before} <= %s) AND {id} <> %s
        ORDER BY {id} LIMIT %s FOR UPDATE SKIP LOCKED
    )
)
RETURNING {columns}
"""


@functools.cache
def _claim_sql() -> str:
    quote = connection.ops.quote_name
    meta = WebhookEvent._meta
    column = {field.name: quote(field.column) for field in meta.concrete_fields}
    return _CLAIM_SQL.format(
        table=quote(meta.db_table),
        status=column["status"],
        attempts=column["attempts"],
        started=column["processing_started_at"],
        lease=column["lease_expires_at"],
        token=column["claim_token"],
        id=column["id"],
        not_before=column["not_before"],
        columns=", ".join(column.values()),
    )


def _claim_params(event_id: int, token: uuid.UUID, now) -> list:
    """``_claim_sql``'s parameters, in its order."""
    received, processing = WebhookEvent.Status.RECEIVED, WebhookEvent.Status.PROCESSING
    picked = [event_id, received, received, now, event_id, INGEST_BATCH_SIZE - 1]
    return [processing, now, now + CLAIM_LEASE, token, *picked]


def _claim_with_pending(event_id: int, token: uuid.UUID, now) -> list[WebhookEvent]:
    claimed = WebhookEvent.objects.raw(_claim_sql(), _claim_params(event_id, token, now))
    return sorted(claimed, key=lambda event: event.pk)


def _finish(event: WebhookEvent, status: str, *, error: str = "", items: int = 0) -> Outcome:
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=status, error=error[:2000], items_count=items, processed_at=timezone.now()
    )
    return Outcome(status=status)


def _routing(event: WebhookEvent, memo: dict | None = None) -> dict[str, Integration]:
    """Account id → integration, limited to the integrations that verified this body.

    ``memo`` shares the lookup between the events of a batch, which nearly always come from
    the same few integrations.
    """
    key = tuple(sorted(event.verified_integration_ids))
    if memo is not None and key in memo:
        return memo[key]
    # A disconnected channel is acknowledged (Meta would retry for days) but not ingested.
    integrations = Integration.objects.filter(pk__in=event.verified_integration_ids).exclude(
        status=Integration.Status.INACTIVE
    )
    routing = {i.external_account_id: i for i in integrations if i.external_account_id}
    for integration in integrations:
        # Account-level updates (WhatsApp template reviews) name the business account.
        for account_id in routing_ids(integration):
            routing.setdefault(account_id, integration)
    # Once per lookup: a batch touches each set of integrations once, not once per event.
    _touch_last_webhook(routing.values(), event.received_at)
    if memo is not None:
        memo[key] = routing
    return routing


def _apply(integration: Integration, item: base.Item) -> bool:
    """Apply one item other than a customer message; False when it refers to a message we do
    not have (yet)."""
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
        files = conversation_services.message_record_echo(integration=integration, echo=item)
        media.downloads_schedule(attachments=files or [])
        return True
    return _apply_account_change(integration, item)


def _apply_account_change(integration: Integration, item: base.Item) -> bool:
    if isinstance(item, base.ContactBlocked):
        conversation_services.contact_identity_flag(
            integration=integration, external_id=item.external_contact_id, blocked=item.blocked
        )
    elif isinstance(item, base.ContactMoved):
        conversation_services.contact_identity_moved(
            integration=integration,
            external_id=item.external_contact_id,
            new_external_id=item.new_external_contact_id,
        )
    elif isinstance(item, base.TemplateStatusUpdate):
        templates.template_status_apply(integration=integration, update=item)
    return True  # CallbackAnswer: handled after the writes, outside any transaction


def _answer_callbacks(routed: list[tuple[Integration, base.Item]]) -> None:
    for integration, item in routed:
        if not isinstance(item, base.CallbackAnswer):
            continue
        client = provider_client(integration.platform)
        if not isinstance(client, base.AnswersCallbacks):
            continue
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


def _routed_items(
    event: WebhookEvent, memo: dict | None = None
) -> list[tuple[Integration, base.Item]]:
    routing = _routing(event, memo)
    parser = provider_parser(event.platform)
    # A NUL or a lone surrogate in one message would make its INSERT fail, and the whole
    # event with it: store that text without them and keep every other message.
    payload = storable(json.loads(bytes(event.body)))
    if not isinstance(payload, dict):
        raise ValueError("The webhook body is not a JSON object.")
    routed = parser.parse(payload, account_ids=set(routing))
    return [(routing[r.account_id], r.item) for r in routed if r.account_id in routing]


def _should_wait_for_unmatched(event: WebhookEvent, unmatched: int) -> bool:
    return unmatched > 0 and timezone.now() - event.received_at < UNMATCHED_GRACE


def _schedule_retry(event: WebhookEvent) -> None:
    from integrations.tasks import ingest_webhook_event_task

    WebhookEvent.objects.filter(pk=event.pk).update(
        status=WebhookEvent.Status.RECEIVED,
        not_before=timezone.now() + timedelta(seconds=UNMATCHED_RETRY_SECONDS),
    )
    transaction.on_commit(
        lambda: ingest_webhook_event_task.apply_async(
            (event.pk,), countdown=UNMATCHED_RETRY_SECONDS
        ),
        robust=True,
    )


def _process_claimed(event: WebhookEvent, wait_for_unmatched: bool) -> str:
    try:
        routed = _routed_items(event)
    except (ValueError, UnicodeDecodeError) as exc:  # malformed JSON: nothing was written
        logger.warning("Webhook event %s is malformed", event.pk, extra={"error": str(exc)})
        return _finish(event, WebhookEvent.Status.FAILED, error=f"Malformed body: {exc}").status
    # Customer messages first, then what may refer to them (the batch's order too).
    _receive_customer_messages(routed)
    status = _settle(event, routed, wait_for_unmatched)
    if status != WebhookEvent.Status.RECEIVED:
        _finish(event, status, items=len(routed))
    return status


def _process_isolated(event: WebhookEvent, wait_for_unmatched: bool) -> str:
    """One event, one short transaction: a bug in one event cannot undo the others, and row
    locks (conversation counters) are held for one event only, so concurrent workers do not
    deadlock on customers that appear in both of their batches."""
    try:
        with transaction.atomic():
            return _process_claimed(event, wait_for_unmatched)
    except OperationalError:
        if not connection.is_usable():
            raise  # the database itself is gone: the whole batch is released and retried
        # A deadlock or serialization failure with another worker: only this event waits.
        logger.info("Webhook event %s hit a lock conflict; retrying it", event.pk)
        _schedule_retry(event)
        return WebhookEvent.Status.RECEIVED
    except InterfaceError:
        raise
    except Exception as exc:
        logger.exception("Webhook event %s failed", event.pk)
        webhook_event_fail(event_id=event.pk, error=f"{type(exc).__name__}: {exc}")
        return WebhookEvent.Status.FAILED


def _parse_batch(events: list[WebhookEvent]) -> tuple[dict, dict[int, str]]:
    """Routed items per event; malformed events are recorded failed on the spot."""
    parsed: dict[int, list] = {}
    statuses: dict[int, str] = {}
    memo: dict = {}
    for event in events:
        try:
            parsed[event.pk] = _routed_items(event, memo)
        except (ValueError, UnicodeDecodeError) as exc:
            statuses[event.pk] = _finish(
                event, WebhookEvent.Status.FAILED, error=f"Malformed body: {exc}"
            ).status
    return parsed, statuses


def _receive_customer_messages(routed: list[tuple[Integration, base.Item]]) -> None:
    """Every customer message among ``routed``, per channel, through the one inbound flow
    (one event's items, or a whole batch's)."""
    by_integration: dict = {}
    for integration, item in routed:
        if isinstance(item, InboundMessage):
            by_integration.setdefault(integration.pk, (integration, []))[1].append(item)
    for integration, inbounds in by_integration.values():
        customer_messages_receive(integration=integration, inbounds=inbounds)


def _settle(event: WebhookEvent, routed: list, wait_for_unmatched: bool) -> str:
    """Apply an event's non-message items and decide its status (the caller records it)."""
    if not routed:
        return WebhookEvent.Status.IGNORED
    others = [(i, item) for i, item in routed if not isinstance(item, InboundMessage)]
    unmatched = sum(1 for integration, item in others if not _apply(integration, item))
    if wait_for_unmatched and _should_wait_for_unmatched(event, unmatched):
        # Receipts for messages whose send has not stored its id yet: process again shortly.
        _schedule_retry(event)
        return WebhookEvent.Status.RECEIVED
    transaction.on_commit(lambda: _answer_callbacks(routed), robust=True)
    return WebhookEvent.Status.PROCESSED


def _finish_many(statuses: dict[int, str], parsed: dict) -> None:
    """One UPDATE per final status and item count for the whole batch (nearly always one:
    a webhook carries one message), instead of one per event or a CASE over a hundred ids."""
    now = timezone.now()
    groups: dict[tuple[str, int], list[int]] = {}
    for pk, status in statuses.items():
        if pk in parsed and status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED):
            groups.setdefault((status, len(parsed[pk])), []).append(pk)
    for (status, items), ids in sorted(groups.items()):
        WebhookEvent.objects.filter(pk__in=ids).update(
            status=status, error="", items_count=items, processed_at=now
        )


def _process_batch(events: list[WebhookEvent], wait_for_unmatched: bool) -> dict[int, str]:
    """The whole batch in one transaction: customer messages set-based first (so reactions,
    edits and receipts in the same batch find them), then every other item in event order."""
    parsed, statuses = _parse_batch(events)
    # Committed durably (no synchronous_commit off): the inbox hears of these messages the
    # moment the commit returns, and a crash must not take back what it has already shown.
    with transaction.atomic():
        _receive_customer_messages([pair for routed in parsed.values() for pair in routed])
        for event in events:
            if event.pk in parsed:
                statuses[event.pk] = _settle(event, parsed[event.pk], wait_for_unmatched)
        _finish_many(statuses, parsed)
    return statuses


def _process_events(events: list[WebhookEvent], wait_for_unmatched: bool) -> dict[int, str]:
    if _batching() and len(events) > 1:
        try:
            return _process_batch(events, wait_for_unmatched)
        except (OperationalError, InterfaceError):
            if not connection.is_usable():
                raise
            logger.info("Batch hit a lock conflict; processing its events one by one")
        except Exception:
            logger.exception("Batch processing failed; processing its events one by one")
        _reclaim(events)
    return {event.pk: _process_isolated(event, wait_for_unmatched) for event in events}


def _reclaim(events: list[WebhookEvent]) -> None:
    # The failed batch transaction rolled back every finish mark; the claim itself stands.
    WebhookEvent.objects.filter(pk__in=[event.pk for event in events]).update(
        status=WebhookEvent.Status.PROCESSING
    )


@contextmanager
def _lease_kept(events: list[WebhookEvent]) -> Iterator[None]:
    """Renew the claim's lease while its events are processed.

    From a thread with its own database connection: the processing transaction's writes stay
    invisible to other workers until it commits, so a renewal made inside it would not keep the
    claim alive. Where one task cannot claim for others (SQLite: the embedded default, one
    process) there is nothing to take over and no thread.
    """
    if not events or not _batching():
        yield
        return
    stop = threading.Event()
    renewer = threading.Thread(
        target=_renew_lease, args=(events[0].claim_token, stop), name="ingest-lease", daemon=True
    )
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join(timeout=5)


def _renew_lease(token: uuid.UUID, stop: threading.Event) -> None:
    try:
        while not stop.wait(LEASE_RENEW_SECONDS):
            WebhookEvent.objects.filter(
                claim_token=token, status=WebhookEvent.Status.PROCESSING
            ).update(lease_expires_at=timezone.now() + CLAIM_LEASE)
    except DatabaseError:
        logger.warning("Could not renew an ingestion lease", exc_info=True)
    finally:
        connection.close()  # this thread's own connection


def webhook_events_process(*, event_id: int, wait_for_unmatched: bool = True) -> dict[int, str]:
    """Claim ``event_id`` (with a batch of other pending events) and process them one by one.
    Returns each claimed event's resulting status; {} when another worker has it."""
    events = _claim_batch(event_id)
    if len(events) >= BACKLOG_EVENTS:
        backpressure.ingestion_backlogged()
    continued = _batching() and len(events) >= INGEST_BATCH_SIZE - 1
    if continued:
        # More may be waiting: let another worker take the next batch while this one works.
        _continue_draining(event_id)
    try:
        with _lease_kept(events):
            statuses = _process_events(events, wait_for_unmatched)
    except (OperationalError, InterfaceError) as exc:
        token = str(events[0].claim_token) if events else ""
        try:
            claim_release(token)
        except DatabaseError:
            # The database is away: the claim stays until the task's retry releases it (the
            # token goes with the exception), rather than until its lease runs out.
            raise ClaimHeldError(token) from exc
        raise
    _observe_lag(events, statuses)
    if _batching() and not continued and WebhookEvent.objects.filter(_claimable()).exists():
        # Stored while this batch was claimed, with their trigger skipped: drain them too.
        _drain_unless_pending(event_id)
    return statuses


def _drain_unless_pending(event_id: int) -> None:
    """Another task for what is waiting, unless one that has not started yet will claim it
    (a lingering one, under sustained traffic: publishing at once would undo its batch)."""
    try:
        if not _trigger_taken():
            return
    except Exception:  # Redis away: the cache cannot say, so drain anyway
        logger.warning("Could not check for a pending ingest task", exc_info=True)
    _continue_draining(event_id)


class ClaimHeldError(OperationalError):
    """The database failed while a batch was claimed, and again when the claim was released."""

    def __init__(self, claim_token: str) -> None:
        super().__init__(f"the database failed while claim {claim_token} was held")
        self.claim_token = claim_token


def claim_release(token: str) -> int:
    """The claim's unfinished events back to ``received``, for any worker to claim."""
    if not token:
        return 0
    return WebhookEvent.objects.filter(
        claim_token=token, status=WebhookEvent.Status.PROCESSING
    ).update(status=WebhookEvent.Status.RECEIVED)


def _observe_lag(events: list[WebhookEvent], statuses: dict[int, str]) -> None:
    """Receipt to the end of processing, for the events that are done (flame.metrics)."""
    now = timezone.now()
    done = (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED)
    for event in events:
        if statuses.get(event.pk) in done:
            lag = (now - event.received_at).total_seconds()
            metrics.WEBHOOK_INGESTION_LAG_SECONDS.labels(platform=event.platform).observe(lag)


def _continue_draining(event_id: int) -> None:
    from integrations.tasks import ingest_webhook_event_task

    ingest_webhook_event_task.delay(event_id)


def webhook_event_process(*, event_id: int, wait_for_unmatched: bool = True) -> Outcome:
    """Process one event (with whatever batch comes along) and report on that event."""
    statuses = webhook_events_process(event_id=event_id, wait_for_unmatched=wait_for_unmatched)
    if event_id not in statuses:
        return Outcome(status="skipped")  # processed already, or another worker has it
    status = statuses[event_id]
    retry = UNMATCHED_RETRY_SECONDS if status == WebhookEvent.Status.RECEIVED else None
    return Outcome(status=status, retry_in=retry)


def webhook_event_fail(*, event_id: int, error: str) -> None:
    """Record an unexpected processing error (the task gave up retrying)."""
    WebhookEvent.objects.filter(pk=event_id).update(
        status=WebhookEvent.Status.FAILED,
        error=redact_text(error)[:2000],
        processed_at=timezone.now(),
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
    worker died mid-way (its lease ran out)."""
    from integrations.tasks import ingest_webhook_event_task

    now = timezone.now()
    expired = Q(lease_expires_at__lt=now) | Q(
        lease_expires_at__isnull=True, processing_started_at__lt=now - UNLEASED_CLAIM_TIMEOUT
    )
    WebhookEvent.objects.filter(expired, status=WebhookEvent.Status.PROCESSING).update(
        status=WebhookEvent.Status.RECEIVED, claim_token=None, lease_expires_at=None
    )
    stuck = list(
        WebhookEvent.objects.filter(_claimable(), received_at__lt=now - older_than).values_list(
            "pk", flat=True
        )[:1000]
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
