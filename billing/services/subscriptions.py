"""What a workspace admin does with the plan: subscribe, change, cancel, open the portal.

Provider calls happen outside any transaction; what they answer is applied afterwards in a
short one, through the same path as the provider's events (so a change we made and the event
announcing it agree, whichever arrives first).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts import plans
from accounts.models import User
from billing import conf
from billing.models import Provider, Subscription
from billing.providers import PROVIDERS, BillingProvider
from billing.providers.base import SubscriptionState
from billing.services.events import subscription_state_apply
from flame.exceptions import ConflictError, InvalidInput, NotFoundError, PermissionDeniedError

BILLING_PAGE = "/settings/billing/"


@dataclass(frozen=True)
class SubscribeResult:
    """Either where to pay (a new subscription), or the subscription as changed."""

    checkout_url: str = ""
    subscription: Subscription | None = None


def _require_admin(user: User) -> None:
    if not user.is_workspace_admin:
        raise PermissionDeniedError("Only workspace admins can do this.")


def _current(user: User) -> Subscription | None:
    return Subscription.objects.filter(workspace_id=user.member_workspace_id).first()


def _live(user: User) -> Subscription:
    row = _current(user)
    if row is None or not row.is_live:
        raise ConflictError("This workspace has no paid subscription.", code="no_subscription")
    return row


def _source(provider_name: str, plan: str) -> BillingProvider:
    if plan not in conf.paid_plan_codes():
        choices = ", ".join(conf.paid_plan_codes())
        raise InvalidInput("Invalid input.", details={"plan": [f"Choose one of: {choices}."]})
    source = PROVIDERS.get(provider_name)
    if source is None:
        raise NotFoundError("Unknown payment provider.")
    if not source.sells(plan):
        raise ConflictError(
            f"The {plans.get(plan).name} plan cannot be paid through "
            f"{Provider(provider_name).label} on this server.",
            code="provider_unavailable",
        )
    return source


def _apply_answer(row: Subscription, state: SubscriptionState) -> Subscription:
    with transaction.atomic():
        subscription_state_apply(row.provider, state, timezone.now())
    row.refresh_from_db()
    return row


def _change(row: Subscription, source: BillingProvider, plan: str) -> Subscription:
    if row.provider != source.name:
        raise ConflictError(
            f"This workspace pays through {row.get_provider_display()}: change the plan there.",
            code="subscribed_elsewhere",
        )
    if row.plan == plan and not row.cancel_at_period_end:
        raise ConflictError("The workspace is on this plan already.", code="already_on_plan")
    state = source.change_plan(subscription_id=row.subscription_id, plan=plan)
    return _apply_answer(row, state)


def subscription_subscribe(*, by: User, provider_name: str, plan: str) -> SubscribeResult:
    """A checkout for a workspace without a paid subscription; for one with it, the change
    (upgrade, downgrade between paid plans, or taking back a cancellation)."""
    _require_admin(by)
    source = _source(provider_name, plan)
    row = _current(by)
    if row is not None and row.is_live:
        return SubscribeResult(subscription=_change(row, source, plan))
    known_customer = row.customer_id if row is not None and row.provider == source.name else ""
    page = f"{conf.public_base_url()}{BILLING_PAGE}"
    url = source.checkout_url(
        plan=plan,
        workspace_id=str(by.member_workspace_id),
        email=by.email,
        customer_id=known_customer,
        success_url=f"{page}?checkout=success",
        cancel_url=f"{page}?checkout=cancelled",
    )
    return SubscribeResult(checkout_url=url)


def subscription_cancel(*, by: User) -> Subscription:
    """Cancel at the end of the paid period (the plan stays until then); twice is once."""
    _require_admin(by)
    row = _live(by)
    if row.cancel_at_period_end:
        return row
    state = PROVIDERS[row.provider].cancel_at_period_end(subscription_id=row.subscription_id)
    return _apply_answer(row, state)


def billing_portal_url(*, by: User) -> str:
    """The provider's own page for payment methods, invoices and cancellation."""
    _require_admin(by)
    row = _current(by)
    if row is None or not row.customer_id:
        raise ConflictError("This workspace has no paid subscription.", code="no_subscription")
    url = PROVIDERS[row.provider].portal_url(
        customer_id=row.customer_id,
        subscription_id=row.subscription_id,
        return_url=f"{conf.public_base_url()}{BILLING_PAGE}",
    )
    if not url:
        raise ConflictError(
            "The provider offers no portal for this subscription.", code="no_portal"
        )
    return url
