"""Every write of outgoing webhooks: endpoints, the dispatcher that turns the core's events
into deliveries, each try, redelivery and the automatic disabling of an endpoint that keeps
failing. No network call runs inside a transaction."""

from __future__ import annotations

import logging
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts import audit
from accounts.models import User, Workspace
from conversations.models import Event
from flame.exceptions import InvalidInput, PermissionDeniedError
from outgoing_webhooks import delivery as http
from outgoing_webhooks import events, signing, targets
from outgoing_webhooks.models import (
    DispatchCursor,
    EventType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

logger = logging.getLogger(__name__)

DISPATCH_BATCH = 500
# After a failed try, wait about this long before the next (with jitter), then give up once a
# delivery is OUTGOING_WEBHOOKS_RETRY_HOURS old: 1 min, 5 min, 15 min, 1 h, then every 3 h.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
BACKOFF_AFTER = timedelta(hours=3)
CLAIM_LEASE = timedelta(seconds=60)


# --- endpoints ------------------------------------------------------------------------------------


def _ensure_admin(by: User, workspace_id) -> None:
    if not by.is_workspace_admin or by.workspace_id != workspace_id:
        raise PermissionDeniedError("Only workspace admins can do this.")


def _check_events(chosen: list[str]) -> list[str]:
    unknown = sorted({name for name in chosen if name not in EventType.values})
    if not chosen or unknown:
        words = [f"Unknown event: {name}." for name in unknown] or ["Choose at least one event."]
        raise InvalidInput("Invalid input.", details={"events": words})
    return [name for name in EventType.values if name in chosen]


def _audit(action: str, endpoint: WebhookEndpoint, by: User | None, **data: Any) -> None:
    audit.record(
        action=action,
        workspace_id=endpoint.workspace_id,
        actor=by,
        target=("webhook", endpoint.pk),
        data={"url": endpoint.url, **data},
    )


@transaction.atomic
def endpoint_create(
    *, by: User, url: str, events: list[str], description: str = ""
) -> WebhookEndpoint:
    workspace_id = by.member_workspace_id
    _ensure_admin(by, workspace_id)
    chosen = _check_events(events)
    targets.check_url(url)
    endpoint = WebhookEndpoint.objects.create(
        workspace_id=workspace_id,
        url=url,
        events=chosen,
        description=description.strip(),
        signing={"secret": signing.new_secret()},
        created_by=by,
    )
    _audit(audit.WEBHOOK_CREATED, endpoint, by, events=chosen)
    return endpoint


@transaction.atomic
def endpoint_update(
    *,
    by: User,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    """Change an endpoint; turning it on again clears why it was turned off."""
    _ensure_admin(by, endpoint.workspace_id)
    changes: dict[str, Any] = {}
    if url is not None and url != endpoint.url:
        targets.check_url(url)
        changes["url"] = url
    if events is not None:
        changes["events"] = _check_events(events)
    if description is not None:
        changes["description"] = description.strip()
    if is_active is not None and is_active != endpoint.is_active:
        changes.update(is_active=is_active, disabled_at=None, disabled_reason="")
    for field, value in changes.items():
        setattr(endpoint, field, value)
    endpoint.save()
    if changes:
        _audit(audit.WEBHOOK_UPDATED, endpoint, by, fields=sorted(changes))
    return endpoint


@transaction.atomic
def endpoint_delete(*, by: User, endpoint: WebhookEndpoint) -> None:
    _ensure_admin(by, endpoint.workspace_id)
    _audit(audit.WEBHOOK_DELETED, endpoint, by)
    endpoint.delete()


# --- the dispatcher: the core's event log -> deliveries ------------------------------------------


def _cursor() -> DispatchCursor:
    DispatchCursor.objects.get_or_create(pk=1)
    return DispatchCursor.objects.select_for_update().get(pk=1)


def _deliveries_for(event: Event, endpoints: list[WebhookEndpoint]) -> list[WebhookDelivery]:
    event_type = events.event_type_of(event)
    if event_type is None:
        return []
    made = []
    for endpoint in endpoints:
        if event_type in endpoint.events and event.created_at >= endpoint.created_at:
            delivery_id = uuid.uuid4()
            body = events.body_of(delivery_id=delivery_id, event=event, event_type=event_type)
            made.append(
                WebhookDelivery(
                    id=delivery_id,
                    endpoint=endpoint,
                    workspace_id=event.workspace_id,
                    event_type=event_type,
                    source_event_id=event.pk,
                    body=body,
                )
            )
    return made


@transaction.atomic
def deliveries_dispatch(*, now: datetime | None = None) -> list[str]:
    """Read the events recorded since the last run and make the deliveries they call for;
    returns the new deliveries' ids (sent after commit by the caller's task).

    Only events older than ``OUTGOING_WEBHOOKS_DISPATCH_LAG_SECONDS`` are read: event ids are
    numbered when a row is written but become visible when its transaction commits, so a
    lower id may appear after a higher one; waiting that long lets every transaction that
    numbered an event commit first, and the cursor can then move past what it read. The
    cursor row is locked, so one dispatcher runs at a time; the unique (endpoint, event)
    keeps a repeated read from sending twice.
    """
    now = now or timezone.now()
    cursor = _cursor()
    horizon = now - timedelta(seconds=settings.OUTGOING_WEBHOOKS_DISPATCH_LAG_SECONDS)
    readable = Event.objects.filter(id__gt=cursor.last_event_id, created_at__lt=horizon)
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True))
    by_workspace: dict[Any, list[WebhookEndpoint]] = {}
    for endpoint in endpoints:
        by_workspace.setdefault(endpoint.workspace_id, []).append(endpoint)
    batch = list(
        readable.filter(workspace_id__in=list(by_workspace), kind__in=events.SOURCE_KINDS).order_by(
            "id"
        )[:DISPATCH_BATCH]
    )
    made = [d for event in batch for d in _deliveries_for(event, by_workspace[event.workspace_id])]
    WebhookDelivery.objects.bulk_create(made, ignore_conflicts=True)
    if len(batch) == DISPATCH_BATCH:
        cursor.last_event_id = batch[-1].pk
    else:  # everything readable was read (events of workspaces without endpoints included)
        newest = readable.order_by("-id").values_list("id", flat=True).first()
        cursor.last_event_id = max(cursor.last_event_id, newest or 0)
    cursor.save(update_fields=["last_event_id"])
    stored = WebhookDelivery.objects.filter(pk__in=[d.pk for d in made])
    return [str(pk) for pk in stored.order_by("source_event_id").values_list("pk", flat=True)]


# --- one try --------------------------------------------------------------------------------------


def _claim(delivery_id, now: datetime) -> WebhookDelivery | None:
    """Whoever flips the row to ``sending`` owns this try (a lease: a dead worker's try is
    taken again after CLAIM_LEASE)."""
    claimable = Q(status__in=(WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING)) | Q(
        status=WebhookDelivery.Status.SENDING, claimed_until__lt=now
    )
    claimed = WebhookDelivery.objects.filter(
        claimable, pk=delivery_id, next_attempt_at__lte=now, endpoint__is_active=True
    ).update(status=WebhookDelivery.Status.SENDING, claimed_until=now + CLAIM_LEASE)
    if claimed != 1:
        return None
    return WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)


def _headers(delivery: WebhookDelivery, body: bytes, now: datetime) -> dict[str, str]:
    timestamp = int(now.timestamp())
    return {
        "Content-Type": "application/json",
        "User-Agent": "FLAME-Webhooks/1",
        "X-Flame-Webhook-Id": str(delivery.pk),
        "X-Flame-Event": delivery.event_type,
        "X-Flame-Timestamp": str(timestamp),
        "X-Flame-Signature": signing.signature(delivery.endpoint.secret, timestamp, body),
    }


def delivery_attempt(*, delivery_id, now: datetime | None = None) -> WebhookDelivery | None:
    """Try ``delivery`` once if it is due and nobody else is; record how it went."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return None
    body = delivery.body.encode()
    result = http.post(delivery.endpoint.url, body, _headers(delivery, body, now))
    return _record(delivery, result, now)


def _next_try(delivery: WebhookDelivery, now: datetime) -> datetime | None:
    """When to try again, or None once the delivery has been failing for long enough."""
    step = BACKOFF[delivery.attempts - 1] if delivery.attempts <= len(BACKOFF) else BACKOFF_AFTER
    jittered = step * random.uniform(0.8, 1.2)  # noqa: S311 (spreading retries, not secrecy)
    give_up_at = delivery.created_at + timedelta(hours=settings.OUTGOING_WEBHOOKS_RETRY_HOURS)
    return now + jittered if now + jittered < give_up_at else None


@transaction.atomic
def _record(delivery: WebhookDelivery, result: http.Result, now: datetime) -> WebhookDelivery:
    delivery.attempts += 1
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        status_code=result.status_code,
        duration_ms=result.duration_ms,
        error=result.error[:300],
        manual=delivery.redelivery_requested,
        created_at=now,
    )
    delivery.redelivery_requested = False
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error[:300]
    delivery.claimed_until = None
    if result.succeeded:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.delivered_at = now
    else:
        next_try = _next_try(delivery, now) if result.retryable else None
        if next_try is not None:
            delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.RETRYING, next_try
        else:
            delivery.status = WebhookDelivery.Status.FAILED
    delivery.save()
    if delivery.status == WebhookDelivery.Status.FAILED and result.retryable:
        _disable(delivery.endpoint, now)
    return delivery


def _disable(endpoint: WebhookEndpoint, now: datetime) -> None:
    """A delivery failed for a whole retry period: the endpoint is turned off, its admins are
    told (e-mail, and the audit log), and nothing more is sent until one turns it on."""
    hours = settings.OUTGOING_WEBHOOKS_RETRY_HOURS
    turned_off = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
        is_active=False,
        disabled_at=now,
        disabled_reason=f"Every try failed for {hours} hours.",
        updated_at=now,
    )
    if not turned_off:
        return
    endpoint.refresh_from_db()
    _audit(audit.WEBHOOK_DISABLED, endpoint, None, reason=endpoint.disabled_reason)
    transaction.on_commit(lambda: _tell_admins(endpoint), robust=True)


def _tell_admins(endpoint: WebhookEndpoint) -> None:
    """One e-mail to the workspace's admins, in the workspace's language."""
    admins = User.objects.filter(
        workspace_id=endpoint.workspace_id, role=User.Role.ADMIN, is_active=True, is_pending=False
    ).values_list("email", flat=True)
    language = (
        Workspace.objects.filter(pk=endpoint.workspace_id)
        .values_list("language", flat=True)
        .first()
    )
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = gettext("FLAME: a webhook was turned off")
        message = gettext(
            "Deliveries to %(url)s failed for %(hours)s hours, so FLAME stopped sending to it.\n"
            "Fix the receiver, then turn the webhook on again under Settings > Workspace > "
            "Webhooks; you can redeliver failed events from its delivery log."
        ) % {"url": endpoint.url, "hours": settings.OUTGOING_WEBHOOKS_RETRY_HOURS}
    send_mail(subject=subject, message=message, from_email=None, recipient_list=list(admins))


# --- redelivery and the sweeper -------------------------------------------------------------------


@transaction.atomic
def delivery_redeliver(*, by: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send ``delivery`` again now (same id and body), whatever became of it."""
    _ensure_admin(by, delivery.workspace_id)
    if not delivery.endpoint.is_active:
        raise InvalidInput("Turn the endpoint on before redelivering.", code="endpoint_disabled")
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at=now,
        claimed_until=None,
        redelivery_requested=True,
    )
    _audit(audit.WEBHOOK_REDELIVERED, delivery.endpoint, by, delivery_id=str(delivery.pk))
    delivery.refresh_from_db()
    return delivery


def deliveries_due(*, now: datetime | None = None, limit: int = 500) -> list[str]:
    """Deliveries whose next try is due (retries, and tries a lost task never made)."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(
        Q(status__in=(WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING))
        | Q(status=WebhookDelivery.Status.SENDING, claimed_until__lt=now),
        next_attempt_at__lte=now,
        endpoint__is_active=True,
    ).order_by("next_attempt_at")
    return [str(pk) for pk in due.values_list("pk", flat=True)[:limit]]
