from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from conversations.models import Contact, ContactIdentity, Conversation, Event, Message, Tag
from conversations.services import message_resend


class MessageInline(admin.TabularInline):
    model = Message
    fields = ("created_at", "sender", "type", "content", "status", "error_code", "external_id")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-created_at",)
    show_change_link = True

    def get_queryset(self, request):
        # Long threads would make the change page slow; the full thread is in the inbox.
        return super().get_queryset(request).select_related("conversation")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = (
        "contact",
        "workspace",
        "platform",
        "status",
        "priority",
        "assigned_agent",
        "unread_count",
        "last_message_at",
    )
    list_filter = (
        "status",
        "priority",
        "platform",
        ("assigned_agent", admin.RelatedOnlyFieldListFilter),
        "workspace",
    )
    search_fields = ("contact__name", "contact__phone", "contact__email", "last_message", "id")
    list_select_related = ("contact", "workspace", "assigned_agent")
    raw_id_fields = ("contact", "assigned_agent", "assigned_assistant", "integration")
    filter_horizontal = ("tags",)
    readonly_fields = (
        "id",
        "workspace",
        "message_count",
        "unread_count",
        "last_message",
        "last_message_at",
        "first_response_at",
        "resolved_at",
        "ai_summary",
        "ai_priority",
        "ai_tags",
        "ai_analyzed_at",
        "created_at",
        "updated_at",
    )
    inlines = [MessageInline]
    date_hierarchy = "last_message_at"


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    actions = ["resend_failed"]
    list_display = ("created_at", "conversation", "sender", "type", "status", "error_code")
    list_filter = ("status", "sender", "type")
    search_fields = ("content", "external_id", "conversation__contact__name", "id")
    list_select_related = ("conversation", "conversation__contact")
    raw_id_fields = ("conversation", "author", "assistant", "reply_to", "integration", "workspace")
    readonly_fields = ("id", "created_at", "status_changed_at")

    @admin.action(description=_("Resend failed outbound messages"))
    def resend_failed(self, request, queryset):
        failed = queryset.filter(status=Message.Status.FAILED).exclude(sender=Message.Sender.USER)
        count = 0
        for message in failed.select_related("conversation"):
            message_resend(message=message)
            count += 1
        self.message_user(request, _("%d messages queued again.") % count, messages.SUCCESS)


class ContactIdentityInline(admin.TabularInline):
    model = ContactIdentity
    fields = ("integration", "external_id", "created_at")
    readonly_fields = ("created_at",)
    raw_id_fields = ("integration",)
    extra = 0


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("__str__", "phone", "email", "workspace", "created_at")
    search_fields = ("name", "phone", "email", "identities__external_id", "id")
    list_filter = ("workspace",)
    list_select_related = ("workspace",)
    inlines = [ContactIdentityInline]
    readonly_fields = ("id", "created_at", "updated_at")


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "color", "workspace", "conversation_count")
    search_fields = ("name",)
    list_filter = ("workspace",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("workspace")
            .annotate(_conversations=Count("conversations"))
        )

    @admin.display(description=_("Conversations"), ordering="_conversations")
    def conversation_count(self, tag: Tag) -> int:
        return tag._conversations


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "audience", "workspace", "conversation_id", "created_at")
    list_filter = ("kind", "audience")
    search_fields = ("conversation_id", "user_id")
    readonly_fields = [field.name for field in Event._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
