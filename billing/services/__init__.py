"""Every write of billing, by flow: provider events (``events``), the plan a subscription
entitles to and the grace period (``entitlement``), an admin's own actions
(``subscriptions``), notices (``notices``). Public names are re-exported here."""

from __future__ import annotations

from billing.services.entitlement import subscriptions_lapse
from billing.services.events import Receipt, billing_event_receive, subscription_state_apply
from billing.services.notices import notice_broadcast, notice_dismiss, notice_to_admins
from billing.services.subscriptions import (
    SubscribeResult,
    billing_portal_url,
    subscription_cancel,
    subscription_subscribe,
)

__all__ = [
    "Receipt",
    "SubscribeResult",
    "billing_event_receive",
    "billing_portal_url",
    "notice_broadcast",
    "notice_dismiss",
    "notice_to_admins",
    "subscription_cancel",
    "subscription_state_apply",
    "subscription_subscribe",
    "subscriptions_lapse",
]
