"""Calls to Lemon Squeezy's API (JSON:API over HTTPS) with ``requests``.

``LEMONSQUEEZY_API_BASE`` points it at another address (the tests' local stand-in). Explicit
timeouts; any failure is ``ProviderUnavailable`` and never carries the key.
"""

from __future__ import annotations

import logging
from typing import Any

import requests

from billing import conf
from billing.providers import base
from billing.providers.lemonsqueezy import parse

logger = logging.getLogger(__name__)

NAME = "lemonsqueezy"
JSON_API = "application/vnd.api+json"


def _request(method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    headers = {
        "Accept": JSON_API,
        "Content-Type": JSON_API,
        "Authorization": f"Bearer {conf.lemonsqueezy_api_key()}",
    }
    try:
        response = requests.request(
            method,
            f"{conf.lemonsqueezy_api_base()}{path}",
            json=body,
            headers=headers,
            timeout=conf.timeouts(),
        )
        response.raise_for_status()
        return response.json() if response.content else {}
    except (requests.RequestException, ValueError) as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        logger.warning("Lemon Squeezy refused %s %s", method, path, extra={"status": status})
        raise base.ProviderUnavailable(
            "Lemon Squeezy did not complete the request; try again.",
            details={"provider": NAME, "status": status},
        ) from exc


def _subscription(subscription_id: str) -> dict[str, Any]:
    return _request("GET", f"/v1/subscriptions/{subscription_id}")["data"]


class LemonSqueezyProvider:
    name = NAME

    def sells(self, plan: str) -> bool:
        configured = conf.lemonsqueezy_api_key() and conf.lemonsqueezy_store_id()
        return bool(configured and conf.lemonsqueezy_variants().get(plan))

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
        def related(kind: str, value: str) -> dict[str, Any]:
            return {"data": {"type": kind, "id": value}}

        body = {
            "data": {
                "type": "checkouts",
                "attributes": {
                    "checkout_data": {
                        "email": email,
                        # Repeated in the meta of every event of the subscription it creates.
                        "custom": {"workspace_id": workspace_id, "plan": plan},
                    },
                    "product_options": {"redirect_url": success_url},
                },
                "relationships": {
                    "store": related("stores", conf.lemonsqueezy_store_id()),
                    "variant": related("variants", conf.lemonsqueezy_variants()[plan]),
                },
            }
        }
        created = _request("POST", "/v1/checkouts", body)
        return str(created["data"]["attributes"]["url"])

    @base.reading_answers
    def change_plan(self, *, subscription_id: str, plan: str) -> base.SubscriptionState:
        attributes = {"variant_id": int(conf.lemonsqueezy_variants()[plan]), "cancelled": False}
        body = {"data": {"type": "subscriptions", "id": subscription_id, "attributes": attributes}}
        changed = _request("PATCH", f"/v1/subscriptions/{subscription_id}", body)
        return parse.subscription_state(changed["data"])

    @base.reading_answers
    def cancel_at_period_end(self, *, subscription_id: str) -> base.SubscriptionState:
        # Lemon Squeezy's cancellation keeps the subscription until the period ends.
        cancelled = _request("DELETE", f"/v1/subscriptions/{subscription_id}")
        return parse.subscription_state(cancelled["data"])

    @base.reading_answers
    def portal_url(self, *, customer_id: str, subscription_id: str, return_url: str) -> str:
        # A pre-signed address that expires: asked for when needed, never stored.
        urls = _subscription(subscription_id)["attributes"].get("urls") or {}
        return str(urls.get("customer_portal") or "")

    @base.reading_answers
    def payment_methods(
        self, *, customer_id: str, subscription_id: str
    ) -> list[base.PaymentMethod]:
        attributes = _subscription(subscription_id)["attributes"]
        if not attributes.get("card_last_four"):
            return []
        brand = str(attributes.get("card_brand") or "")
        return [base.PaymentMethod(brand=brand, last4=str(attributes["card_last_four"]))]

    def parse_webhook(self, *, body: bytes, headers) -> base.ProviderEvent:
        return parse.parse_webhook(body=body, headers=headers)
