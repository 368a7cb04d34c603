"""Stripe and Lemon Squeezy as the tests meet them: the local HTTP stand-in their API calls go
to (``integrations.tests.fake_api.FakeApi``, scripted per route), and deliveries signed the
way each provider signs them.

Stripe (its documentation, "Verify webhook signatures manually"): ``Stripe-Signature:
t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the endpoint secret>``. Lemon
Squeezy: ``X-Signature: <hex HMAC-SHA256 of the raw body with the signing secret>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qsl

STRIPE_KEY = "sk_test_flame"
STRIPE_SECRET = "whsec_test_flame"
STRIPE_PRICES = {"starter": "price_starter", "pro": "price_pro", "business": "price_business"}
LS_KEY = "ls_test_flame"
LS_SECRET = "ls_signing_secret"
LS_STORE = "4242"
LS_VARIANTS = {"starter": "101", "pro": "102", "business": "103"}


def form(body: Any) -> dict[str, str]:
    """A Stripe request body (form-encoded, nested keys like ``line_items[0][price]``)."""
    return dict(parse_qsl(body if isinstance(body, str) else "", keep_blank_values=True))


# --- Stripe ---------------------------------------------------------------------------------------


def post_stripe(client, body: bytes, signature: str | None = None):
    headers = (
        {} if signature == "" else {"HTTP_STRIPE_SIGNATURE": signature or stripe_signature(body)}
    )
    return client.post(
        "/api/webhooks/stripe", data=body, content_type="application/json", **headers
    )


def post_lemonsqueezy(client, body: bytes, signature: str | None = None):
    headers = {} if signature == "" else {"HTTP_X_SIGNATURE": signature or ls_signature(body)}
    return client.post(
        "/api/webhooks/lemonsqueezy", data=body, content_type="application/json", **headers
    )


def stripe_signature(body: bytes, *, secret: str = STRIPE_SECRET, at: int | None = None) -> str:
    stamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def stripe_event(kind: str, obj: dict[str, Any], *, created: int, event_id: str) -> bytes:
    payload = {
        "id": event_id,
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": created,
        "type": kind,
        "livemode": False,
        "data": {"object": obj},
    }
    return json.dumps(payload).encode()


def stripe_subscription(
    *,
    workspace_id: str,
    plan: str = "pro",
    status: str = "active",
    subscription_id: str = "sub_1",
    customer_id: str = "cus_1",
    period_end: int = 1_800_000_000,
    cancel_at_period_end: bool = False,
) -> dict[str, Any]:
    """A subscription as recent API versions send it (the period on its item)."""
    return {
        "id": subscription_id,
        "object": "subscription",
        "customer": customer_id,
        "status": status,
        "cancel_at_period_end": cancel_at_period_end,
        "metadata": {"workspace_id": workspace_id, "plan": plan},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_1",
                    "object": "subscription_item",
                    "price": {"id": STRIPE_PRICES[plan], "object": "price"},
                    "current_period_end": period_end,
                }
            ],
        },
    }


def stripe_invoice(
    *,
    invoice_id: str = "in_1",
    subscription_id: str = "sub_1",
    customer_id: str = "cus_1",
    amount: int = 3900,
    paid: bool = True,
) -> dict[str, Any]:
    return {
        "id": invoice_id,
        "object": "invoice",
        "number": f"FLAME-{invoice_id}",
        "customer": customer_id,
        "currency": "usd",
        "amount_paid": amount if paid else 0,
        "amount_due": amount,
        "status": "paid" if paid else "open",
        "hosted_invoice_url": f"https://invoice.stripe.test/{invoice_id}",
        "invoice_pdf": f"https://invoice.stripe.test/{invoice_id}.pdf",
        "period_start": 1_790_000_000,
        "period_end": 1_792_592_000,
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": subscription_id, "metadata": {}},
        },
    }


# --- Lemon Squeezy -------------------------------------------------------------------------------


def ls_signature(body: bytes, *, secret: str = LS_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def ls_subscription(
    *,
    subscription_id: str = "7001",
    plan: str = "pro",
    status: str = "active",
    cancelled: bool = False,
    updated_at: str = "2026-11-01T10:00:00.000000Z",
    customer_id: int = 9001,
) -> dict[str, Any]:
    return {
        "type": "subscriptions",
        "id": subscription_id,
        "attributes": {
            "store_id": int(LS_STORE),
            "customer_id": customer_id,
            "variant_id": int(LS_VARIANTS[plan]),
            "status": status,
            "cancelled": cancelled,
            "renews_at": "2026-12-01T10:00:00.000000Z",
            "ends_at": "2026-12-01T10:00:00.000000Z" if cancelled else None,
            "card_brand": "visa",
            "card_last_four": "4242",
            "urls": {
                "customer_portal": "https://flame.lemonsqueezy.test/billing?signed=1",
                "update_payment_method": "https://flame.lemonsqueezy.test/update",
            },
            "created_at": "2026-11-01T10:00:00.000000Z",
            "updated_at": updated_at,
        },
    }


def ls_invoice(
    *,
    invoice_id: str = "8001",
    subscription_id: str = "7001",
    total: int = 3900,
    status: str = "paid",
    updated_at: str = "2026-11-01T10:00:05.000000Z",
) -> dict[str, Any]:
    return {
        "type": "subscription-invoices",
        "id": invoice_id,
        "attributes": {
            "subscription_id": int(subscription_id),
            "customer_id": 9001,
            "billing_reason": "renewal",
            "currency": "USD",
            "status": status,
            "total": total,
            "urls": {"invoice_url": f"https://flame.lemonsqueezy.test/invoice/{invoice_id}"},
            "created_at": updated_at,
            "updated_at": updated_at,
        },
    }


def ls_event(name: str, data: dict[str, Any], *, workspace_id: str) -> bytes:
    payload = {
        "meta": {
            "test_mode": True,
            "event_name": name,
            "custom_data": {"workspace_id": workspace_id, "plan": "pro"},
        },
        "data": data,
    }
    return json.dumps(payload).encode()
