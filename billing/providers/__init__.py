"""The payment providers a workspace can pay through, by name (the URL's and the models')."""

from __future__ import annotations

from billing.providers.base import BillingProvider
from billing.providers.lemonsqueezy import LemonSqueezyProvider
from billing.providers.stripe import StripeProvider

# Annotated with the Protocol, so mypy checks each module against the contract.
PROVIDERS: dict[str, BillingProvider] = {
    StripeProvider.name: StripeProvider(),
    LemonSqueezyProvider.name: LemonSqueezyProvider(),
}


def provider(name: str) -> BillingProvider:
    return PROVIDERS[name]
