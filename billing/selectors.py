"""Every read of billing: the plans on sale, a workspace's plan, usage and invoices, the notices
its admins see, and the platform's figures for operators. Scoping lives here."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from accounts import plans, presence
from accounts import selectors as accounts_selectors
from accounts.models import User, Workspace
from assistants.models import AIUsage
from assistants.selectors import ai_quota_status
from billing.models import ENTITLED_STATUSES, BillingEvent, Invoice, Notice, Subscription
from billing.providers import PROVIDERS, base
from conversations.models import Message
from flame.exceptions import NotFoundError
from integrations import selectors as integrations_selectors
from integrations.models import WebhookEvent

CURRENCY = "USD"


def plan_as_dict(plan: plans.Plan) -> dict[str, Any]:
    return {
        "code": plan.code,
        "name": str(plan.name),
        "monthly_price": plan.monthly_price,
        "currency": CURRENCY,
        "quotas": plan.ai_quota(),
        "limits": {
            "channels": plan.channels,
            "agents": plan.agents,
            "analytics_days": plan.analytics_days,
            "api_access": plan.api_access,
        },
        "providers": [name for name, source in PROVIDERS.items() if source.sells(plan.code)],
    }


def plan_catalogue() -> list[dict[str, Any]]:
    return [plan_as_dict(plan) for plan in plans.PLANS]


def _meter(used: int, limit: int | None) -> dict[str, Any]:
    return {"used": used, "limit": limit}


def usage_for(*, workspace: Workspace, at: datetime) -> dict[str, Any]:
    """Today's AI use and what the workspace has, each against its plan's limit."""
    plan = plans.get(workspace.plan)
    quota = ai_quota_status(workspace=workspace, at=at)
    limits = quota["limits"] or {}
    return {
        "day": quota["day"],
        "ai_requests": _meter(quota["used"]["requests"], limits.get("requests")),
        "ai_tokens": _meter(quota["used"]["tokens"], limits.get("tokens")),
        "channels": _meter(
            integrations_selectors.plan_channel_count(workspace_id=workspace.pk), plan.channels
        ),
        "agents": _meter(accounts_selectors.seat_count(workspace_id=workspace.pk), plan.agents),
    }


def subscription_get_for(*, user: User) -> Subscription | None:
    return Subscription.objects.filter(workspace_id=user.member_workspace_id).first()


def billing_overview_for(*, user: User, at: datetime) -> dict[str, Any]:
    """What ``GET /api/payments/subscription`` and the billing page show."""
    workspace = Workspace.objects.get(pk=user.member_workspace_id)
    return {
        "plan": plan_as_dict(plans.get(workspace.plan)),
        "subscription": subscription_get_for(user=user),
        "usage": usage_for(workspace=workspace, at=at),
    }


def invoices_for(*, user: User) -> QuerySet[Invoice]:
    if not user.is_workspace_admin:
        return Invoice.objects.none()
    return Invoice.objects.filter(workspace_id=user.member_workspace_id)


def payment_methods_for(*, user: User) -> list[base.PaymentMethod]:
    """The cards on file, asked from the provider (never stored here)."""
    row = subscription_get_for(user=user)
    if row is None or not row.customer_id:
        return []
    return PROVIDERS[row.provider].payment_methods(
        customer_id=row.customer_id, subscription_id=row.subscription_id
    )


# --- notices ------------------------------------------------------------------------------------


def _visible_notices(user: User) -> QuerySet[Notice]:
    """Admins see their workspace's notices and the announcements sent since it exists."""
    if not user.is_workspace_admin:
        return Notice.objects.none()
    workspace = user.workspace
    assert workspace is not None  # for mypy: is_workspace_admin says so
    return Notice.objects.filter(
        Q(workspace=workspace) | Q(workspace__isnull=True, created_at__gte=workspace.created_at)
    )


def notices_for(*, user: User) -> QuerySet[Notice]:
    """The notices ``user`` has not dismissed, newest first."""
    return _visible_notices(user).exclude(dismissals__user=user)


def notice_get_for(*, user: User, notice_id) -> Notice:
    notice = _visible_notices(user).filter(pk=notice_id).first()
    if notice is None:
        raise NotFoundError("Notice not found.")
    return notice


# --- the platform's figures (operators) -----------------------------------------------------------


def _days(days: int, now: datetime) -> list[date]:
    today = now.astimezone(UTC).date()
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def _per_day(rows, days: list[date], fields: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows grouped by "day" as one entry per day of ``days`` (zeros where none)."""
    found = {row["day"]: row for row in rows}
    return [
        {
            "day": day,
            **{name: found.get(day, {}).get(name) or zero for name, zero in fields.items()},
        }
        for day in days
    ]


def _mrr() -> Decimal:
    paying = Subscription.objects.filter(status__in=ENTITLED_STATUSES, lapsed_at__isnull=True)
    counts = paying.values("plan").annotate(count=Count("id"))
    return sum(
        (plans.get(row["plan"]).monthly_price * row["count"] for row in counts), Decimal("0")
    )


def _messages_per_day(since: datetime, days: list[date]) -> list[dict[str, Any]]:
    rows = (
        Message.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(
            inbound=Count("id", filter=Q(sender=Message.Sender.USER)),
            outbound=Count("id", filter=~Q(sender=Message.Sender.USER)),
        )
    )
    return _per_day(rows, days, {"inbound": 0, "outbound": 0})


def _ai_per_day(since: datetime, days: list[date]) -> list[dict[str, Any]]:
    rows = (
        AIUsage.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(
            calls=Count("id"),
            prompt_tokens=Sum("prompt_tokens"),
            completion_tokens=Sum("completion_tokens"),
            cost=Sum("cost"),
        )
    )
    zero = {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost": Decimal("0")}
    return _per_day(rows, days, zero)


def _webhook_failures_per_day(since: datetime, days: list[date]) -> list[dict[str, Any]]:
    def failed(model, status, moment: str) -> dict[date, int]:
        rows = (
            model.objects.filter(status=status, **{f"{moment}__gte": since})
            .annotate(day=TruncDate(moment, tzinfo=UTC))
            .values("day")
            .annotate(count=Count("id"))
        )
        return {row["day"]: row["count"] for row in rows}

    channels = failed(WebhookEvent, WebhookEvent.Status.FAILED, "received_at")
    payments = failed(BillingEvent, BillingEvent.Status.FAILED, "received_at")
    return [
        {"day": day, "channels": channels.get(day, 0), "payments": payments.get(day, 0)}
        for day in days
    ]


def open_socket_count(*, now: datetime) -> int:
    """Sockets open now, as presence counts them (accounts.presence): only members heard
    from lately count, since a server that died never closed its sockets."""
    total = User.objects.filter(presence.with_open_socket(now)).aggregate(n=Sum("open_sockets"))
    return int(total["n"] or 0)


def platform_metrics(*, days: int, now: datetime) -> dict[str, Any]:
    """The platform's figures for operators: workspaces by plan, MRR, and per UTC day the
    messages, AI use and cost, and failed webhooks of the last ``days`` days."""
    day_list = _days(days, now)
    since = datetime.combine(day_list[0], datetime.min.time(), tzinfo=UTC)
    by_plan = dict(Workspace.objects.values_list("plan").annotate(count=Count("id")))
    return {
        "generated_at": now,
        "days": days,
        "workspaces": {
            "total": sum(by_plan.values()),
            "by_plan": {code: by_plan.get(code, 0) for code in plans.CODES},
        },
        "mrr": _mrr(),
        "currency": CURRENCY,
        "subscriptions": dict(
            Subscription.objects.values_list("status").annotate(count=Count("id"))
        ),
        "messages_per_day": _messages_per_day(since, day_list),
        "ai_per_day": _ai_per_day(since, day_list),
        "webhook_failures_per_day": _webhook_failures_per_day(since, day_list),
        "open_sockets": open_socket_count(now=now),
    }
