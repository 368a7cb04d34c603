"""Stripe: Checkout for new subscriptions, the API for changes, the customer portal."""

from __future__ import annotations

from billing.providers.stripe.client import StripeProvider

__all__ = ["StripeProvider"]
