from __future__ import annotations

from django.contrib import admin

from integrations.models import Integration


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    """Credentials are deliberately absent: they are write-only through the API."""

    list_display = (
        "name",
        "platform",
        "workspace",
        "status",
        "external_account_id",
        "last_webhook_at",
    )
    list_filter = ("platform", "status")
    search_fields = ("name", "external_account_id", "workspace__name", "id")
    list_select_related = ("workspace",)
    fields = (
        "id",
        "workspace",
        "platform",
        "name",
        "status",
        "external_account_id",
        "default_assistant",
        "webhook_url",
        "last_sync",
        "last_webhook_at",
        "last_error",
        "created_at",
        "updated_at",
    )
    readonly_fields = (
        "id",
        "webhook_url",
        "last_sync",
        "last_webhook_at",
        "created_at",
        "updated_at",
    )
    raw_id_fields = ("workspace", "default_assistant")
