"""Settings of billing, read at call time (tests override them with pytest-django's
``settings``; deployments through the environment variables flame/settings.py maps)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings

from accounts import plans


def _get(name: str, default: Any = "") -> Any:
    return getattr(settings, name, default)


def paid_plan_codes() -> list[str]:
    return [plan.code for plan in plans.PLANS if plan.is_paid]


def stripe_secret_key() -> str:
    return _get("STRIPE_SECRET_KEY") or ""


def stripe_webhook_secret() -> str:
    return _get("STRIPE_WEBHOOK_SECRET") or ""


def stripe_api_base() -> str:
    return (_get("STRIPE_API_BASE") or "https://api.stripe.com").rstrip("/")


def stripe_prices() -> dict[str, str]:
    """Plan code → Stripe price id (STRIPE_PRICE_<PLAN>), for the plans that have one."""
    return {code: price for code in paid_plan_codes() if (price := _price("STRIPE_PRICE", code))}


def lemonsqueezy_api_key() -> str:
    return _get("LEMONSQUEEZY_API_KEY") or ""


def lemonsqueezy_webhook_secret() -> str:
    return _get("LEMONSQUEEZY_WEBHOOK_SECRET") or ""


def lemonsqueezy_api_base() -> str:
    return (_get("LEMONSQUEEZY_API_BASE") or "https://api.lemonsqueezy.com").rstrip("/")


def lemonsqueezy_store_id() -> str:
    return str(_get("LEMONSQUEEZY_STORE_ID") or "")


def lemonsqueezy_variants() -> dict[str, str]:
    """Plan code → Lemon Squeezy variant id (LEMONSQUEEZY_VARIANT_<PLAN>)."""
    return {
        code: variant
        for code in paid_plan_codes()
        if (variant := _price("LEMONSQUEEZY_VARIANT", code))
    }


def _price(prefix: str, code: str) -> str:
    return str(_get(f"{prefix}_{code.upper()}") or "")


def webhook_tolerance_seconds() -> int:
    """How old a signed Stripe delivery may be (replays of captured requests are refused)."""
    return int(_get("STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300))


def grace_period() -> timedelta:
    """How long a workspace keeps its plan after a payment failed."""
    return timedelta(days=float(_get("BILLING_GRACE_DAYS", 7)))


def timeouts() -> tuple[float, float]:
    return (
        float(_get("PROVIDER_CONNECT_TIMEOUT", 5.0)),
        float(_get("PROVIDER_READ_TIMEOUT", 15.0)),
    )


def max_network_retries() -> int:
    return int(_get("BILLING_MAX_NETWORK_RETRIES", 2))


def public_base_url() -> str:
    return str(_get("PUBLIC_BASE_URL", "http://127.0.0.1:8000")).rstrip("/")
