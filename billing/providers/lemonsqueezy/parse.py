"""Lemon Squeezy's webhook deliveries and objects, in our words.

A delivery is verified on its raw bytes: ``X-Signature`` is the hex HMAC-SHA256 of the body
with the webhook's signing secret (compared in constant time). Deliveries carry no event id, so
one is made of what identifies the change: the event's name, the object and the object's
``updated_at`` — a redelivery of the same change has the same id, and the object's
``updated_at`` is the version the services compare.

The workspace travels in the checkout's custom data, which Lemon Squeezy repeats in ``meta``
of every event of that subscription.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.utils.dateparse import parse_datetime

from billing import conf
from billing.providers import base

SUBSCRIPTION_EVENTS = {
    "subscription_created",
    "subscription_updated",
    "subscription_cancelled",
    "subscription_resumed",
    "subscription_expired",
    "subscription_paused",
    "subscription_unpaused",
}
PAYMENT_EVENTS = {
    "subscription_payment_success": True,
    "subscription_payment_recovered": True,
    "subscription_payment_failed": False,
}
STATUSES = {
    "on_trial": base.ACTIVE,
    "active": base.ACTIVE,
    # Cancelled: still paid for until ends_at, then "expired".
    "cancelled": base.ACTIVE,
    "past_due": base.PAST_DUE,
    "unpaid": base.PAST_DUE,
    "paused": base.PAUSED,
    "expired": base.CANCELED,
}


def moment(value: Any) -> datetime | None:
    parsed = parse_datetime(str(value)) if value else None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def plan_for_variant(variant_id: Any) -> str | None:
    wanted = str(variant_id or "")
    variants = conf.lemonsqueezy_variants().items()
    return next((code for code, variant in variants if variant == wanted), None)


def _workspace(meta: Mapping[str, Any]) -> str | None:
    return (meta.get("custom_data") or {}).get("workspace_id") or None


def subscription_state(
    data: Mapping[str, Any], *, workspace_id: str | None = None
) -> base.SubscriptionState:
    attributes = data["attributes"]
    cancelled = bool(attributes.get("cancelled"))
    status = str(attributes.get("status") or "")
    period_end = attributes.get("ends_at") if cancelled else attributes.get("renews_at")
    return base.SubscriptionState(
        subscription_id=str(data["id"]),
        customer_id=str(attributes.get("customer_id") or ""),
        workspace_id=workspace_id,
        plan=plan_for_variant(attributes.get("variant_id")),
        status=STATUSES.get(status, base.INCOMPLETE),
        cancel_at_period_end=cancelled and status != "expired",
        current_period_end=moment(period_end),
        at=moment(attributes.get("updated_at")) or datetime.now(tz=UTC),
    )


def invoice_state(data: Mapping[str, Any], *, paid: bool, workspace_id: str | None):
    attributes = data["attributes"]
    return base.InvoiceState(
        invoice_id=str(data["id"]),
        subscription_id=str(attributes.get("subscription_id") or ""),
        customer_id=str(attributes.get("customer_id") or ""),
        workspace_id=workspace_id,
        number="",
        paid=paid,
        amount=(Decimal(int(attributes.get("total") or 0)) / 100).quantize(Decimal("0.01")),
        currency=str(attributes.get("currency") or "USD").upper(),
        url=str((attributes.get("urls") or {}).get("invoice_url") or ""),
        pdf_url="",
        period_start=None,
        period_end=None,
        at=moment(attributes.get("updated_at")) or datetime.now(tz=UTC),
    )


def _verify(body: bytes, headers: Mapping[str, str]) -> None:
    signature = headers.get("X-Signature", "")
    if not signature:
        raise base.SignatureError("signature_missing", "X-Signature is required.")
    secret = conf.lemonsqueezy_webhook_secret()
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not secret or not hmac.compare_digest(expected, signature.strip().lower()):
        raise base.SignatureError("signature_invalid", "The signature does not match.")


def parse_webhook(*, body: bytes, headers: Mapping[str, str]) -> base.ProviderEvent:
    _verify(body, headers)
    payload = json.loads(body)
    meta = payload.get("meta") or {}
    data = payload.get("data") or {}
    kind = str(meta.get("event_name") or headers.get("X-Event-Name", ""))
    attributes = data.get("attributes") or {}
    at = moment(attributes.get("updated_at")) or datetime.now(tz=UTC)
    event_id = f"{kind}:{data.get('type')}:{data.get('id')}:{attributes.get('updated_at')}"
    parts: dict[str, Any] = {}
    if kind in SUBSCRIPTION_EVENTS:
        parts["subscription"] = subscription_state(data, workspace_id=_workspace(meta))
    elif kind in PAYMENT_EVENTS:
        parts["invoice"] = invoice_state(
            data, paid=PAYMENT_EVENTS[kind], workspace_id=_workspace(meta)
        )
    return base.ProviderEvent(event_id=event_id, kind=kind, at=at, payload=payload, **parts)
