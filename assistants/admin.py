from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from assistants import services
from assistants.models import AIUsage, Assistant, AutoReplyJob, KnowledgeDocument, Schedule


class ScheduleInline(admin.TabularInline):
    model = Schedule
    extra = 0
    fields = ("day_of_week", "start_time", "end_time", "enabled")


class KnowledgeDocumentInline(admin.StackedInline):
    model = KnowledgeDocument
    extra = 0
    fields = ("title", "content")


@admin.register(Assistant)
class AssistantAdmin(admin.ModelAdmin):
    list_display = ("name", "workspace", "type", "status", "schedule_mode", "model", "trained_at")
    list_filter = ("type", "status", "schedule_mode")
    search_fields = ("name", "description", "workspace__name")
    list_select_related = ("workspace",)
    raw_id_fields = ("workspace",)
    readonly_fields = ("id", "knowledge_changed_at", "trained_at", "created_at", "updated_at")
    inlines = (ScheduleInline, KnowledgeDocumentInline)
    actions = ("train",)

    @admin.action(description=_("Train (rebuild the knowledge index)"))
    def train(self, request, queryset):
        count = 0
        for assistant in queryset:
            services.assistant_train(assistant=assistant)
            count += 1
        self.message_user(request, _("%d assistants are training.") % count, messages.SUCCESS)


@admin.register(AIUsage)
class AIUsageAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "workspace",
        "purpose",
        "provider",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "cost",
        "latency_ms",
        "succeeded",
        "error_code",
    )
    list_filter = ("purpose", "provider", "succeeded", "model")
    search_fields = ("workspace__name", "assistant__name", "model", "error_code")
    list_select_related = ("workspace",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # an audit log


@admin.register(AutoReplyJob)
class AutoReplyJobAdmin(admin.ModelAdmin):
    list_display = ("created_at", "workspace", "conversation", "status", "reason", "attempts")
    list_filter = ("status", "reason")
    search_fields = ("conversation__id", "trigger_message__id", "reason")
    list_select_related = ("workspace", "conversation", "conversation__contact")
    raw_id_fields = ("workspace", "conversation", "trigger_message", "assistant", "reply")
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
