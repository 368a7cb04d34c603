"""Django admin: subscriptions, provider events, invoices, notices, and the operators' metrics
page (``/admin/metrics/``, staff only, the figures of ``GET /api/admin/metrics``)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import selectors
from billing.models import BillingEvent, Invoice, Notice, Subscription

METRICS_DAYS = 14


class ReadOnlyAdmin(admin.ModelAdmin):
    """What providers told us: looked at, never edited by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = (
        "workspace",
        "provider",
        "plan",
        "status",
        "cancel_at_period_end",
        "current_period_end",
        "grace_until",
        "lapsed_at",
    )
    list_filter = ("provider", "plan", "status", "cancel_at_period_end")
    search_fields = ("workspace__name", "customer_id", "subscription_id")
    list_select_related = ("workspace",)


@admin.register(BillingEvent)
class BillingEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "provider", "kind", "status", "workspace", "event_id")
    list_filter = ("provider", "status", "kind")
    search_fields = ("event_id", "workspace__name")
    list_select_related = ("workspace",)
    date_hierarchy = "received_at"


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ("issued_at", "workspace", "provider", "number", "status", "amount", "currency")
    list_filter = ("provider", "status")
    search_fields = ("workspace__name", "number", "external_id")
    list_select_related = ("workspace",)


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ("created_at", "title", "kind", "level", "workspace")
    list_filter = ("kind", "level")
    search_fields = ("title", "body", "workspace__name")
    list_select_related = ("workspace",)
    readonly_fields = ("kind", "created_by", "created_at")

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.kind = Notice.Kind.ANNOUNCEMENT
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


def _bar_scale(rows: list[dict], *fields: str) -> list[dict]:
    """Each row with ``width_<field>`` in percent of the largest value, for CSS bars."""
    largest = max([1, *(float(row[name]) for row in rows for name in fields)])
    return [
        {**row, **{f"width_{name}": round(float(row[name]) * 100 / largest) for name in fields}}
        for row in rows
    ]


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Wrapped by ``admin.site.admin_view`` in flame/urls.py: active staff only."""
    figures = selectors.platform_metrics(days=METRICS_DAYS, now=timezone.now())
    context = {
        **admin.site.each_context(request),
        "title": _("Platform metrics"),
        "figures": figures,
        "messages_rows": _bar_scale(figures["messages_per_day"], "inbound", "outbound"),
        "ai_rows": _bar_scale(figures["ai_per_day"], "prompt_tokens", "completion_tokens"),
        "failure_rows": _bar_scale(figures["webhook_failures_per_day"], "channels", "payments"),
    }
    return TemplateResponse(request, "admin/billing/metrics.html", context)
