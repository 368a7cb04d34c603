from __future__ import annotations

from django.contrib import admin

from assistants.models import Assistant


@admin.register(Assistant)
class AssistantAdmin(admin.ModelAdmin):
    list_display = ("name", "workspace", "type", "status", "schedule_mode", "model")
    list_filter = ("type", "status", "schedule_mode")
    search_fields = ("name", "description", "workspace__name")
    list_select_related = ("workspace",)
    raw_id_fields = ("workspace",)
    readonly_fields = ("id", "created_at", "updated_at")
