from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from flame.exceptions import ApplicationError
from integrations import ingest, services, templates
from integrations.models import Integration, MessageTemplate, WebhookEvent


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
    actions = ["connect_integrations", "disconnect_integrations", "sync_message_templates"]

    @admin.action(description=_("Connect (check credentials with the platform)"))
    def connect_integrations(self, request, queryset):
        for integration in queryset:
            try:
                services.integration_connect(integration=integration)
            except ApplicationError as exc:
                self.message_user(
                    request,
                    f"{integration}: {exc.details.get('provider_message', exc.message)}",
                    messages.ERROR,
                )
            else:
                self.message_user(request, f"{integration}: connected", messages.SUCCESS)

    @admin.action(description=_("Sync message templates (WhatsApp)"))
    def sync_message_templates(self, request, queryset):
        _sync_templates(self, request, queryset)

    @admin.action(description=_("Disconnect"))
    def disconnect_integrations(self, request, queryset):
        for integration in queryset:
            services.integration_disconnect(integration=integration)
        self.message_user(request, _("%d disconnected.") % queryset.count(), messages.SUCCESS)


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "platform",
        "status",
        "integration",
        "items_count",
        "attempts",
        "received_at",
        "processed_at",
    )
    list_filter = ("status", "platform")
    search_fields = ("id", "error", "body_sha256")
    list_select_related = ("integration",)
    readonly_fields = (
        "id",
        "platform",
        "integration",
        "workspace",
        "verified_integration_ids",
        "raw_body",
        "body_sha256",
        "headers",
        "status",
        "attempts",
        "error",
        "items_count",
        "received_at",
        "processing_started_at",
        "processed_at",
    )
    exclude = ("body",)
    actions = ["retry_events"]
    date_hierarchy = "received_at"

    @admin.display(description=_("Body"))
    def raw_body(self, event: WebhookEvent) -> str:
        return bytes(event.body).decode("utf-8", errors="replace")

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Retry failed events"))
    def retry_events(self, request, queryset):
        count = ingest.webhook_events_retry(events=queryset)
        self.message_user(request, _("%d events queued again.") % count, messages.SUCCESS)


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    """Templates as the platform has them: kept by syncs and status webhooks, not edited here."""

    list_display = ("name", "language", "category", "status", "integration", "synced_at")
    list_filter = ("status", "category", "language")
    search_fields = ("name", "external_id", "integration__name")
    list_select_related = ("integration",)
    readonly_fields = [f.name for f in MessageTemplate._meta.fields]
    actions = ["sync_templates"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Sync the templates of these channels now"))
    def sync_templates(self, request, queryset):
        channels = Integration.objects.filter(
            pk__in=queryset.values_list("integration_id", flat=True)
        )
        _sync_templates(self, request, channels)


def _sync_templates(model_admin, request, integrations) -> None:
    for integration in integrations:
        try:
            count = templates.templates_sync(integration=integration)
        except ApplicationError as exc:
            detail = exc.details.get("provider_message", exc.message)
            model_admin.message_user(request, f"{integration}: {detail}", messages.ERROR)
        else:
            model_admin.message_user(
                request,
                _("%(channel)s: %(count)d templates") % {"channel": integration, "count": count},
                messages.SUCCESS,
            )
