"""The plans FLAME is sold in, as data: price, daily AI quotas and the limits of each.

This is the one definition every app reads (accounts is the bottom of the graph, so all may
import it): the AI quota (``assistants.usage``), the channels a workspace may connect
(``integrations.services``), its seats (``accounts.services``), how far back its reports reach
(``analytics``), whether API clients may call it (``accounts.api.authentication``), the prices
billing charges and the MRR operators see. ``None`` means unlimited.

What each limit counts:

- ``channels``: connected channels, the sandbox simulator excepted (it reaches no customer);
- ``agents``: seats, that is active members (admins count) plus pending invitations;
- ``analytics_days``: the oldest local day a report may start on, counted back from today;
- ``api_access``: calls authenticated with a bearer token (JWT) or an API key, which is how API
  clients call us; the product's own pages use the session and keep working on every plan.

A workspace moved to a smaller plan keeps what it has (nothing is deleted or disconnected); it
cannot add more until it is under the limit again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from flame.exceptions import PermissionDeniedError

FREE = "free"
STARTER = "starter"
PRO = "pro"
BUSINESS = "business"


@dataclass(frozen=True)
class Plan:
    code: str
    name: str | Promise
    monthly_price: Decimal  # USD
    requests_per_day: int | None
    tokens_per_day: int | None
    channels: int | None
    agents: int | None
    analytics_days: int | None
    api_access: bool

    @property
    def is_paid(self) -> bool:
        return self.monthly_price > 0

    def ai_quota(self) -> dict[str, int] | None:
        """The daily AI ledger's limits (``assistants.usage``); None is unlimited."""
        overrides: dict[str, dict[str, int] | None] | None = getattr(
            settings, "AI_PLAN_LIMITS", None
        )
        if overrides:
            # A deployment may still tune the AI quotas alone (AI_PLAN_LIMITS_JSON).
            return overrides.get(self.code, _default_quota(FREE))
        return _default_quota(self.code)


# Cheapest first: "upgrade to" is the first plan after the current one that allows a thing.
PLANS: tuple[Plan, ...] = (
    Plan(FREE, _("Free"), Decimal("0"), 100, 50_000, 2, 2, 30, False),
    Plan(STARTER, _("Starter"), Decimal("19"), 1_000, 500_000, 5, 5, 90, True),
    Plan(PRO, _("Pro"), Decimal("39"), 10_000, 5_000_000, 15, 20, None, True),
    Plan(BUSINESS, _("Business"), Decimal("79"), None, None, None, None, None, True),
)
_BY_CODE = {plan.code: plan for plan in PLANS}
CODES = tuple(_BY_CODE)


def _default_quota(code: str) -> dict[str, int] | None:
    plan = _BY_CODE.get(code, _BY_CODE[FREE])
    if plan.requests_per_day is None or plan.tokens_per_day is None:
        return None
    return {"requests": plan.requests_per_day, "tokens": plan.tokens_per_day}


def get(code: str) -> Plan:
    """The plan ``code`` names; an unknown code (a plan retired since) is treated as Free."""
    return _BY_CODE.get(code, _BY_CODE[FREE])


def rank(code: str) -> int:
    return CODES.index(get(code).code)


class PlanLimitReached(PermissionDeniedError):
    """The workspace's plan does not allow this; ``details`` names the plan that does."""

    default_code = "plan_limit_reached"


def _upgrade_for(current: Plan, allows: Callable[[Plan], bool]) -> Plan | None:
    return next((plan for plan in PLANS[rank(current.code) + 1 :] if allows(plan)), None)


def _refusal(
    current: Plan,
    limit: str,
    allowed: int | bool | None,
    allows: Callable[[Plan], bool],
    message: str,
) -> PlanLimitReached:
    # The largest plan has no limit any refusal checks, so some plan above always allows it.
    upgrade = _upgrade_for(current, allows) or PLANS[-1]
    text = message % {"plan": current.name, "allowed": allowed, "upgrade": upgrade.name}
    return PlanLimitReached(
        text,
        details={
            "limit": limit,
            "allowed": allowed,
            "plan": current.code,
            "upgrade_to": upgrade.code,
        },
    )


def check_count(*, plan_code: str, limit: str, used: int) -> None:
    """Refuse adding one more ``limit`` ("channels" or "agents") when ``used`` already fill it."""
    plan = get(plan_code)
    allowed = getattr(plan, limit)
    if allowed is None or used < allowed:
        return
    messages = {
        "channels": gettext(
            "The %(plan)s plan includes %(allowed)s channels — upgrade to %(upgrade)s to "
            "connect more."
        ),
        "agents": gettext(
            "The %(plan)s plan includes %(allowed)s members — upgrade to %(upgrade)s to "
            "invite more."
        ),
    }

    def allows(other: Plan) -> bool:
        room = getattr(other, limit)
        return room is None or room > used

    raise _refusal(plan, limit, allowed, allows, messages[limit])


def earliest_report_day(*, plan_code: str, today: date) -> date | None:
    """The first local day a report may include; None when the plan keeps all history."""
    days = get(plan_code).analytics_days
    return None if days is None else today - timedelta(days=days - 1)


def check_report_start(*, plan_code: str, first_day: date, today: date) -> None:
    earliest = earliest_report_day(plan_code=plan_code, today=today)
    if earliest is None or first_day >= earliest:
        return
    needed = (today - first_day).days + 1
    plan = get(plan_code)
    message = gettext(
        "The %(plan)s plan keeps %(allowed)s days of history — upgrade to %(upgrade)s to "
        "look further back."
    )

    def allows(other: Plan) -> bool:
        return other.analytics_days is None or other.analytics_days >= needed

    raise _refusal(plan, "analytics_days", plan.analytics_days, allows, message)


def check_api_access(*, plan_code: str) -> None:
    plan = get(plan_code)
    if plan.api_access:
        return
    message = gettext(
        "The %(plan)s plan does not include API access — upgrade to %(upgrade)s to call the "
        "API with a token."
    )
    raise _refusal(plan, "api_access", False, lambda other: other.api_access, message)
