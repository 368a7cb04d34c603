"""Calls to Stripe's API through the official ``stripe`` package.

``STRIPE_API_BASE`` points the package at another address (the tests' local stand-in); timeouts
are explicit and failures of any kind surface as ``ProviderUnavailable`` without the key or the
URL. The package retries network failures itself, with idempotency keys on POSTs.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

import stripe
from django.utils import timezone

from billing import conf
from billing.providers import base
from billing.providers.stripe import parse

logger = logging.getLogger(__name__)

NAME = "stripe"
Result = TypeVar("Result")


@functools.lru_cache(maxsize=4)
def _client(
    api_key: str, api_base: str, timeout: tuple[float, float], retries: int
) -> stripe.StripeClient:
    # One client (and its connection pool) per configuration, reused across calls.
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base},
        http_client=stripe.RequestsClient(timeout=timeout),
        max_network_retries=retries,
    )


def client() -> stripe.StripeClient:
    return _client(
        conf.stripe_secret_key(),
        conf.stripe_api_base(),
        conf.timeouts(),
        conf.max_network_retries(),
    )


def _call(what: str, call: Callable[[stripe.StripeClient], Result]) -> Result:
    try:
        return call(client())
    except stripe.StripeError as exc:
        code = getattr(exc, "code", None) or type(exc).__name__
        logger.warning("Stripe refused %s", what, extra={"code": code})
        raise base.ProviderUnavailable(
            "Stripe did not complete the request; try again.",
            details={"provider": NAME, "code": code},
        ) from exc


def _as_dict(obj: Any) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


class StripeProvider:
    name = NAME

    def sells(self, plan: str) -> bool:
        return bool(conf.stripe_secret_key() and conf.stripe_prices().get(plan))

    @base.reading_answers
    def checkout_url(
        self,
        *,
        plan: str,
        workspace_id: str,
        email: str,
        customer_id: str,
        success_url: str,
        cancel_url: str,
    ) -> str:
        reference = {"workspace_id": workspace_id, "plan": plan}
        params: dict[str, Any] = {
            "mode": "subscription",
            "line_items": [{"price": conf.stripe_prices()[plan], "quantity": 1}],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": workspace_id,
            "metadata": reference,
            # On the subscription too: its own events name the workspace.
            "subscription_data": {"metadata": reference},
        }
        if customer_id:
            params["customer"] = customer_id
        else:
            params["customer_email"] = email
        session = _call(
            "a checkout", lambda api: api.v1.checkout.sessions.create(params=cast(Any, params))
        )
        return str(session.url)

    @base.reading_answers
    def change_plan(self, *, subscription_id: str, plan: str) -> base.SubscriptionState:
        current = _call("a lookup", lambda api: api.v1.subscriptions.retrieve(subscription_id))
        item_id = _as_dict(current)["items"]["data"][0]["id"]
        params: dict[str, Any] = {
            "items": [{"id": item_id, "price": conf.stripe_prices()[plan]}],
            "proration_behavior": "create_prorations",
            # Choosing a plan again also takes back a cancellation at the period's end.
            "cancel_at_period_end": False,
            "metadata": {"plan": plan},
        }
        return self._update(subscription_id, params)

    @base.reading_answers
    def cancel_at_period_end(self, *, subscription_id: str) -> base.SubscriptionState:
        return self._update(subscription_id, {"cancel_at_period_end": True})

    def _update(self, subscription_id: str, params: dict[str, Any]) -> base.SubscriptionState:
        now = timezone.now()
        updated = _call(
            "a subscription change",
            lambda api: api.v1.subscriptions.update(subscription_id, params=cast(Any, params)),
        )
        return parse.subscription_state(_as_dict(updated), now)

    @base.reading_answers
    def portal_url(self, *, customer_id: str, subscription_id: str, return_url: str) -> str:
        params: Any = {"customer": customer_id, "return_url": return_url}
        session = _call("the portal", lambda api: api.v1.billing_portal.sessions.create(params))
        return str(session.url)

    @base.reading_answers
    def payment_methods(
        self, *, customer_id: str, subscription_id: str
    ) -> list[base.PaymentMethod]:
        params: Any = {"customer": customer_id, "type": "card"}
        found = _call("payment methods", lambda api: api.v1.payment_methods.list(params=params))
        cards = [_as_dict(method).get("card") or {} for method in found.data]
        return [
            base.PaymentMethod(
                brand=str(card.get("brand") or ""),
                last4=str(card.get("last4") or ""),
                exp_month=card.get("exp_month"),
                exp_year=card.get("exp_year"),
            )
            for card in cards
        ]

    def parse_webhook(self, *, body: bytes, headers) -> base.ProviderEvent:
        return parse.parse_webhook(body=body, headers=headers)
