from __future__ import annotations

from django.contrib import admin

from outgoing_webhooks.models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Every workspace's endpoints, for operators: read-only, and never the signing secret."""

    list_display = ("url", "workspace", "is_active", "disabled_at", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "workspace__name")
    list_select_related = ("workspace",)
    fields = (
        "id",
        "workspace",
        "url",
        "description",
        "events",
        "is_active",
        "disabled_at",
        "disabled_reason",
        "created_by",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
    )
    list_filter = ("status", "event_type")
    list_select_related = ("endpoint",)
    fields = (
        "id",
        "endpoint",
        "event_type",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "delivered_at",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
