"""Payment providers' webhook events: verified, stored once, applied in any order.

``billing_event_receive`` verifies a delivery on its raw bytes (the provider module's
``parse_webhook``), stores it once per (provider, event id) — the unique constraint settles two
deliveries at once — and applies it in one transaction holding the stored row's lock, so a
replay finds it processed and changes nothing. An event that fails to apply is marked failed
and the error propagates: the provider hears a 5xx and delivers it again, and that delivery
applies it (a failed event is not "done").

Order does not matter: each subscription keeps the provider time of the newest state applied
(``state_at``) and older states are ignored; an ended subscription never comes back; a payment
failure starts the grace period only if no newer successful payment was seen, and a success
ends it only if it is newer than the failure (``payment_failed_at``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Workspace
from billing.models import BillingEvent, Invoice, Subscription
from billing.providers import base, provider
from billing.services import entitlement
from flame.exceptions import InvalidInput

logger = logging.getLogger(__name__)

DONE = (BillingEvent.Status.PROCESSED, BillingEvent.Status.IGNORED)


@dataclass(frozen=True)
class Receipt:
    event: BillingEvent
    duplicate: bool


@dataclass(frozen=True)
class Outcome:
    status: str
    note: str = ""
    workspace_id: uuid.UUID | None = None


def _ignored(note: str, workspace_id: uuid.UUID | None = None) -> Outcome:
    return Outcome(BillingEvent.Status.IGNORED, note, workspace_id)


def _processed(workspace_id: uuid.UUID | None) -> Outcome:
    return Outcome(BillingEvent.Status.PROCESSED, "", workspace_id)


def _parse(provider_name: str, body: bytes, headers: Mapping[str, str]) -> base.ProviderEvent:
    try:
        event = provider(provider_name).parse_webhook(body=body, headers=headers)
    except base.SignatureError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        # Signed by the provider, yet not an event we can read.
        raise InvalidInput("The event could not be read.", code="malformed_event") from exc
    if not event.event_id or not event.kind:
        raise InvalidInput("The event has no id or type.", code="malformed_event")
    return event


def billing_event_receive(
    *, provider_name: str, body: bytes, headers: Mapping[str, str]
) -> Receipt:
    """Verify (raises ``base.SignatureError``), store once, apply; see the module."""
    event = _parse(provider_name, body, headers)
    record, _ = BillingEvent.objects.get_or_create(
        provider=provider_name,
        event_id=event.event_id[:255],
        defaults={"kind": event.kind[:100], "payload": event.payload},
    )
    if record.status in DONE:
        return Receipt(record, duplicate=True)
    try:
        return _apply_stored(record.pk, event)
    except Exception as exc:
        _mark_failed(record.pk, exc)
        raise


def _mark_failed(pk: int, exc: Exception) -> None:
    BillingEvent.objects.filter(pk=pk).exclude(status__in=DONE).update(
        status=BillingEvent.Status.FAILED,
        note=f"{type(exc).__name__}: {exc}"[:2000],
        attempts=F("attempts") + 1,
        processed_at=timezone.now(),
    )


@transaction.atomic
def _apply_stored(pk: int, event: base.ProviderEvent) -> Receipt:
    record = BillingEvent.objects.select_for_update().get(pk=pk)
    if record.status in DONE:
        return Receipt(record, duplicate=True)  # another delivery applied it meanwhile
    outcome = _apply(record.provider, event, timezone.now())
    record.status = outcome.status
    record.note = outcome.note
    record.workspace_id = outcome.workspace_id
    record.attempts += 1
    record.processed_at = timezone.now()
    record.save(update_fields=["status", "note", "workspace", "attempts", "processed_at"])
    return Receipt(record, duplicate=False)


def _apply(provider_name: str, event: base.ProviderEvent, now: datetime) -> Outcome:
    if event.checkout is not None:
        return _apply_checkout(provider_name, event.checkout)
    if event.subscription is not None:
        return subscription_state_apply(provider_name, event.subscription, now)
    if event.invoice is not None:
        return _apply_invoice(provider_name, event.invoice, now)
    return _ignored(f"{event.kind} is not an event billing acts on")


# --- finding the workspace ---------------------------------------------------------------------


def _workspace(workspace_id: str | None) -> Workspace | None:
    try:
        key = uuid.UUID(str(workspace_id))
    except ValueError:
        return None
    return Workspace.objects.filter(pk=key).first()


def _locked(provider_name: str, subscription_id: str, customer_id: str) -> Subscription | None:
    rows = Subscription.objects.select_for_update().filter(provider=provider_name)
    found = rows.filter(subscription_id=subscription_id).first() if subscription_id else None
    if found is None and customer_id:
        found = rows.filter(customer_id=customer_id).first()
    return found


def _locked_for_workspace(workspace: Workspace) -> Subscription:
    row = Subscription.objects.select_for_update().filter(workspace=workspace).first()
    return row or Subscription(workspace=workspace)


# --- checkout completed --------------------------------------------------------------------------


def _apply_checkout(provider_name: str, checkout: base.CheckoutCompleted) -> Outcome:
    workspace = _workspace(checkout.workspace_id)
    if workspace is None:
        return _ignored("the checkout names no workspace of ours")
    row = _locked_for_workspace(workspace)
    new_subscription = checkout.subscription_id != row.subscription_id
    if row.is_live and new_subscription and row.provider == provider_name:
        # Still billed for the one it has: keep it; the new one's own events will tell.
        return _ignored("the workspace has another live subscription", workspace.pk)
    row.provider = provider_name
    row.customer_id = checkout.customer_id or row.customer_id
    if new_subscription:
        row.subscription_id = checkout.subscription_id
        row.state_at = None
        row.cancel_at_period_end = False
        row.current_period_end = None
    if row.state_at is None and checkout.paid and checkout.plan:
        # Paid: the plan applies now; the subscription's own events refine it.
        row.plan, row.status, row.state_at = checkout.plan, Subscription.Status.ACTIVE, checkout.at
    if not row.plan:
        return _ignored("the checkout is not paid yet", workspace.pk)
    row.save()
    entitlement.settle(row)
    return _processed(workspace.pk)


# --- subscription states -------------------------------------------------------------------------


def _row_for_state(provider_name: str, state: base.SubscriptionState) -> Subscription | None:
    row = _locked(provider_name, state.subscription_id, state.customer_id)
    if row is not None:
        return row
    workspace = _workspace(state.workspace_id)
    return _locked_for_workspace(workspace) if workspace is not None else None


def _why_not(row: Subscription, state: base.SubscriptionState) -> str:
    """Why ``state`` must not be applied to ``row`` ("" when it may)."""
    if row.subscription_id and row.subscription_id != state.subscription_id:
        if row.is_live and state.status == base.CANCELED:
            return "an earlier subscription of the workspace ended"
        return ""  # a new subscription of the workspace takes over
    if row.state_at is not None and state.at < row.state_at:
        return "older than the state already applied"
    if row.status == Subscription.Status.CANCELED and state.status != base.CANCELED:
        return "the subscription has ended"
    if not (state.plan or row.plan):
        return "a price this deployment does not sell"
    return ""


def subscription_state_apply(
    provider_name: str, state: base.SubscriptionState, now: datetime
) -> Outcome:
    """Apply a subscription's state (from an event, or from a change we asked for), in the
    caller's transaction."""
    row = _row_for_state(provider_name, state)
    if row is None:
        return _ignored("the subscription names no workspace of ours")
    reason = _why_not(row, state)
    if reason:
        return _ignored(reason, row.workspace_id)
    if row.subscription_id != state.subscription_id:
        row.payment_failed_at = row.grace_until = row.lapsed_at = None
    row.provider = provider_name
    row.subscription_id = state.subscription_id
    row.customer_id = state.customer_id or row.customer_id
    row.plan = state.plan or row.plan
    row.status = state.status
    row.cancel_at_period_end = state.cancel_at_period_end
    row.current_period_end = state.current_period_end
    row.state_at = state.at
    if state.status == base.PAST_DUE:
        started = entitlement.grace_start(row, failed_at=state.at, now=now)
    else:
        started = False
        if state.status == base.ACTIVE:
            entitlement.grace_end(row, paid_at=state.at)
    row.save()
    entitlement.settle(row)
    if started:
        entitlement.payment_failed_notify(row)
    return _processed(row.workspace_id)


# --- invoices ------------------------------------------------------------------------------------


def _record_invoice(provider_name: str, workspace_id, invoice: base.InvoiceState) -> str:
    """Store or update the invoice; returns its status now."""
    values = {
        "workspace_id": workspace_id,
        "number": invoice.number[:100],
        "amount": invoice.amount,
        "currency": invoice.currency[:3],
        "url": invoice.url[:1000],
        "pdf_url": invoice.pdf_url[:1000],
        "period_start": invoice.period_start,
        "period_end": invoice.period_end,
        "issued_at": invoice.at,
    }
    status = Invoice.Status.PAID if invoice.paid else Invoice.Status.FAILED
    row, created = Invoice.objects.select_for_update().get_or_create(
        provider=provider_name,
        external_id=invoice.invoice_id[:255],
        defaults={**values, "status": status},
    )
    if not created and row.status != Invoice.Status.PAID:
        # Paid is final: a late "failed" never turns a paid invoice back.
        for name, value in {**values, "status": status}.items():
            setattr(row, name, value)
        row.save()
    return row.status


def _apply_invoice(provider_name: str, invoice: base.InvoiceState, now: datetime) -> Outcome:
    row = _locked(provider_name, invoice.subscription_id, invoice.customer_id)
    workspace = row.workspace if row else _workspace(invoice.workspace_id)
    if workspace is None:
        return _ignored("the invoice names no workspace of ours")
    status = _record_invoice(provider_name, workspace.pk, invoice)
    if row is None or row.subscription_id != invoice.subscription_id:
        return _processed(workspace.pk)  # kept for the record; another subscription's
    if invoice.paid:
        entitlement.grace_end(row, paid_at=invoice.at)
        row.save()
        entitlement.settle(row)
    elif status == Invoice.Status.FAILED and entitlement.grace_start(
        row, failed_at=invoice.at, now=now
    ):
        # (A failure reported after the same invoice was paid changes nothing.)
        row.save()
        entitlement.payment_failed_notify(row)
    return _processed(workspace.pk)
