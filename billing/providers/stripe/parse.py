"""Stripe's webhook deliveries and objects, in our words.

Deliveries are verified with Stripe's own scheme (``Stripe-Signature``: a timestamp and an
HMAC-SHA256 of ``"<timestamp>.<raw body>"`` with the endpoint's secret, refused outside
``STRIPE_WEBHOOK_TOLERANCE_SECONDS``) through the official package, on the raw bytes.

An event's ``created`` time is the version of the object it carries: the services never let an
older one undo a newer state. Periods are read from the subscription item where recent API
versions keep them, and from the subscription where older ones did; an invoice's subscription
likewise from ``parent.subscription_details`` or ``subscription``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import stripe

from billing import conf
from billing.providers import base

KINDS_SUBSCRIPTION = {
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
}
KINDS_INVOICE = {"invoice.paid": True, "invoice.payment_failed": False}
KIND_CHECKOUT = "checkout.session.completed"

STATUSES = {
    "active": base.ACTIVE,
    "trialing": base.ACTIVE,
    "past_due": base.PAST_DUE,
    "unpaid": base.PAST_DUE,
    "incomplete": base.INCOMPLETE,
    "incomplete_expired": base.CANCELED,
    "canceled": base.CANCELED,
    "paused": base.PAUSED,
}


def timestamp(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _id(value: Any) -> str:
    """A reference Stripe sends as an id, or expanded into the object."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def plan_for_price(price_id: str) -> str | None:
    return next((code for code, price in conf.stripe_prices().items() if price == price_id), None)


def _known_plan(code: Any) -> str | None:
    return code if code in conf.paid_plan_codes() else None


def subscription_state(obj: Mapping[str, Any], at: datetime) -> base.SubscriptionState:
    items = (obj.get("items") or {}).get("data") or [{}]
    item = items[0]
    metadata = obj.get("metadata") or {}
    price = _id(item.get("price"))
    return base.SubscriptionState(
        subscription_id=str(obj["id"]),
        customer_id=_id(obj.get("customer")),
        workspace_id=metadata.get("workspace_id") or None,
        # The price is what Stripe bills (a change in the portal moves it); the metadata is
        # what the checkout asked for.
        plan=plan_for_price(price) or _known_plan(metadata.get("plan")),
        status=STATUSES.get(str(obj.get("status")), base.INCOMPLETE),
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
        current_period_end=timestamp(
            item.get("current_period_end") or obj.get("current_period_end")
        ),
        at=at,
    )


def _invoice_subscription(obj: Mapping[str, Any]) -> tuple[str, dict]:
    details = (obj.get("parent") or {}).get("subscription_details") or {}
    if details:
        return _id(details.get("subscription")), details.get("metadata") or {}
    legacy = obj.get("subscription_details") or {}
    return _id(obj.get("subscription")), legacy.get("metadata") or {}


def _cents(value: Any) -> Decimal:
    return (Decimal(int(value or 0)) / 100).quantize(Decimal("0.01"))


def invoice_state(obj: Mapping[str, Any], *, paid: bool, at: datetime) -> base.InvoiceState:
    subscription_id, metadata = _invoice_subscription(obj)
    return base.InvoiceState(
        invoice_id=str(obj["id"]),
        subscription_id=subscription_id,
        customer_id=_id(obj.get("customer")),
        workspace_id=metadata.get("workspace_id") or None,
        number=str(obj.get("number") or ""),
        paid=paid,
        amount=_cents(obj.get("amount_paid") if paid else obj.get("amount_due")),
        currency=str(obj.get("currency") or "usd").upper(),
        url=str(obj.get("hosted_invoice_url") or ""),
        pdf_url=str(obj.get("invoice_pdf") or ""),
        period_start=timestamp(obj.get("period_start")),
        period_end=timestamp(obj.get("period_end")),
        at=at,
    )


def checkout_completed(obj: Mapping[str, Any], at: datetime) -> base.CheckoutCompleted:
    metadata = obj.get("metadata") or {}
    return base.CheckoutCompleted(
        workspace_id=obj.get("client_reference_id") or metadata.get("workspace_id") or None,
        customer_id=_id(obj.get("customer")),
        subscription_id=_id(obj.get("subscription")),
        plan=_known_plan(metadata.get("plan")),
        paid=obj.get("payment_status") in ("paid", "no_payment_required"),
        at=at,
    )


def _verify(body: bytes, headers: Mapping[str, str]) -> str:
    header = headers.get("Stripe-Signature", "")
    if not header:
        raise base.SignatureError("signature_missing", "Stripe-Signature is required.")
    secret = conf.stripe_webhook_secret()
    text = body.decode("utf-8", errors="replace")
    try:
        if not secret:
            raise stripe.SignatureVerificationError("No webhook secret is configured.", header)
        stripe.WebhookSignature.verify_header(
            text, header, secret, conf.webhook_tolerance_seconds()
        )
    except stripe.SignatureVerificationError as exc:
        raise base.SignatureError("signature_invalid", "The signature does not match.") from exc
    return text


def parse_webhook(*, body: bytes, headers: Mapping[str, str]) -> base.ProviderEvent:
    payload = json.loads(_verify(body, headers))
    kind = str(payload.get("type") or "")
    at = timestamp(payload.get("created")) or datetime.now(tz=UTC)
    obj = (payload.get("data") or {}).get("object") or {}
    parts: dict[str, Any] = {}
    if kind in KINDS_SUBSCRIPTION:
        parts["subscription"] = subscription_state(obj, at)
    elif kind in KINDS_INVOICE:
        parts["invoice"] = invoice_state(obj, paid=KINDS_INVOICE[kind], at=at)
    elif kind == KIND_CHECKOUT and obj.get("mode") == "subscription":
        parts["checkout"] = checkout_completed(obj, at)
    return base.ProviderEvent(
        event_id=str(payload.get("id") or ""), kind=kind, at=at, payload=payload, **parts
    )
