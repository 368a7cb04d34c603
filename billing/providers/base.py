"""The contract every payment provider module fulfils, and the vocabulary it speaks.

A provider turns our requests (a checkout for a plan, a change, a cancellation, the portal, the
payment methods) into its API calls, and its signed webhook deliveries into one
:class:`ProviderEvent` each, in our words: a subscription's state, an invoice, a completed
checkout. Everything provider-specific stays in ``billing/providers/<name>/``; the services
never branch on a provider's name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ParamSpec, Protocol, TypeVar

from flame.exceptions import ApplicationError

# What a subscription's state entitles to (billing.models.Subscription.Status).
ACTIVE = "active"
PAST_DUE = "past_due"
INCOMPLETE = "incomplete"
PAUSED = "paused"
CANCELED = "canceled"


class SignatureError(Exception):
    """A webhook delivery that is not the provider's: nothing is stored."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ProviderUnavailable(ApplicationError):
    """The provider refused or did not answer a call; nothing was changed on our side."""

    status_code = 502
    default_code = "payment_provider_error"


Params = ParamSpec("Params")
Result = TypeVar("Result")


def reading_answers(call: Callable[Params, Result]) -> Callable[Params, Result]:
    """A provider's answer without the fields its API documents is the provider's failure
    (502), not ours (500)."""

    @functools.wraps(call)
    def wrapped(*args: Params.args, **kwargs: Params.kwargs) -> Result:
        try:
            return call(*args, **kwargs)
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise ProviderUnavailable(
                "The payment provider's answer could not be read; try again.",
                details={"error": type(exc).__name__},
            ) from exc

    return wrapped


@dataclass(frozen=True)
class SubscriptionState:
    subscription_id: str
    customer_id: str
    workspace_id: str | None
    plan: str | None  # None: a price or variant this deployment does not sell
    status: str
    cancel_at_period_end: bool
    current_period_end: datetime | None
    at: datetime  # when the provider says this was the state


@dataclass(frozen=True)
class InvoiceState:
    invoice_id: str
    subscription_id: str
    customer_id: str
    workspace_id: str | None
    number: str
    paid: bool
    amount: Decimal
    currency: str
    url: str
    pdf_url: str
    period_start: datetime | None
    period_end: datetime | None
    at: datetime


@dataclass(frozen=True)
class CheckoutCompleted:
    workspace_id: str | None
    customer_id: str
    subscription_id: str
    plan: str | None
    paid: bool
    at: datetime


@dataclass(frozen=True)
class ProviderEvent:
    """One verified delivery. At most one of the three parts is set; none: an event kind we
    do not act on (stored and marked ignored)."""

    event_id: str
    kind: str
    at: datetime
    payload: dict[str, Any]
    subscription: SubscriptionState | None = None
    invoice: InvoiceState | None = None
    checkout: CheckoutCompleted | None = None


@dataclass(frozen=True)
class PaymentMethod:
    brand: str
    last4: str
    exp_month: int | None = None
    exp_year: int | None = None


class BillingProvider(Protocol):
    name: str

    def sells(self, plan: str) -> bool:
        """Whether this deployment can charge for ``plan`` here (keys and a price set)."""
        ...

    def checkout_url(
        self,
        *,
        plan: str,
        workspace_id: str,
        email: str,
        customer_id: str,
        success_url: str,
        cancel_url: str,
    ) -> str: ...

    def change_plan(self, *, subscription_id: str, plan: str) -> SubscriptionState: ...

    def cancel_at_period_end(self, *, subscription_id: str) -> SubscriptionState: ...

    def portal_url(self, *, customer_id: str, subscription_id: str, return_url: str) -> str: ...

    def payment_methods(self, *, customer_id: str, subscription_id: str) -> list[PaymentMethod]: ...

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        """Verify the delivery on its raw bytes (raises SignatureError), then read it."""
        ...
