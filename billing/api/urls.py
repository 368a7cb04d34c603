from __future__ import annotations

from django.urls import re_path

from billing import webhooks
from billing.api import views

PROVIDER = r"(?P<provider_name>stripe|lemonsqueezy)"
UUID = r"[0-9a-fA-F-]{32,36}"

urlpatterns = [
    re_path(r"^payments/plans/?$", views.PlansView.as_view(), name="payments-plans"),
    re_path(
        r"^payments/subscription/?$", views.SubscriptionView.as_view(), name="payments-subscription"
    ),
    re_path(
        r"^payments/subscription/cancel/?$",
        views.CancelView.as_view(),
        name="payments-subscription-cancel",
    ),
    re_path(
        rf"^payments/subscribe/{PROVIDER}/?$",
        views.SubscribeView.as_view(),
        name="payments-subscribe",
    ),
    re_path(r"^payments/portal/?$", views.PortalView.as_view(), name="payments-portal"),
    re_path(r"^payments/invoices/?$", views.InvoiceListView.as_view(), name="payments-invoices"),
    re_path(
        r"^payments/payment-methods/?$",
        views.PaymentMethodsView.as_view(),
        name="payments-payment-methods",
    ),
    re_path(rf"^webhooks/{PROVIDER}/?$", webhooks.payment_webhook, name="webhook-payments"),
    re_path(r"^notices/?$", views.NoticeListView.as_view(), name="notices"),
    re_path(
        rf"^notices/(?P<notice_id>{UUID})/dismiss/?$",
        views.NoticeDismissView.as_view(),
        name="notice-dismiss",
    ),
    re_path(r"^admin/metrics/?$", views.AdminMetricsView.as_view(), name="admin-api-metrics"),
    re_path(
        r"^admin/notifications/?$",
        views.AdminNotificationsView.as_view(),
        name="admin-api-notifications",
    ),
    re_path(r"^admin/logs/?$", views.AdminLogsView.as_view(), name="admin-api-logs"),
]
