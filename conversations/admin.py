from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from conversations import services
from conversations.models import (
    Attachment,
    Contact,
    ContactIdentity,
    ContactMerge,
    Conversation,
    Event,
    Message,
    Tag,
)
from conversations.services import message_resend
from flame.admin import ServiceAdminMixin
from flame.exceptions import ApplicationError


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


# The edits an operator may make, each applied by the service the inbox uses, so they record
# their events, send the satisfaction survey on resolve and check the assignee's workspace.
UPDATE_FIELDS = ("status", "priority", "tags")
ASSIGN_FIELDS = {"assigned_agent": "agent", "assigned_assistant": "assistant"}


class ConversationAdminForm(forms.ModelForm):
    class Meta:
        model = Conversation
        fields = (*UPDATE_FIELDS, *ASSIGN_FIELDS)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "tags" in self.fields:
            # The tags an operator can pick are the conversation's workspace's.
            tags = self.fields["tags"]
            tags.queryset = tags.queryset.filter(workspace_id=self.instance.workspace_id)


@admin.register(Conversation)
class ConversationAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = ConversationAdminForm
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
    raw_id_fields = ("assigned_agent", "assigned_assistant")
    filter_horizontal = ("tags",)
    fields = (
        "id",
        "workspace",
        "contact",
        "integration",
        "platform",
        *UPDATE_FIELDS,
        *ASSIGN_FIELDS,
        "message_count",
        "unread_count",
        "last_message",
        "last_message_sender",
        "last_message_at",
        "last_customer_message_at",
        "last_agent_reply_at",
        "first_response_at",
        "resolved_at",
        "ai_summary",
        "ai_priority",
        "ai_tags",
        "ai_analyzed_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = tuple(name for name in fields if name not in {*UPDATE_FIELDS, *ASSIGN_FIELDS})
    inlines = [MessageInline]
    date_hierarchy = "last_message_at"
    service_fields = {"agent_id": "assigned_agent", "assistant_id": "assigned_assistant"}
    service_messages = {
        "assigned_agent": _("Choose an active agent of this conversation's workspace."),
        "assigned_assistant": _("Choose an assistant of this conversation's workspace."),
        "open_conversation_exists": _(
            "This customer already has an open conversation on this channel."
        ),
        "permission_denied": _("Only platform operators can do this."),
    }

    def has_add_permission(self, request) -> bool:
        # Conversations start with a customer's message or in the inbox, never here.
        return False

    def save_model(self, request, obj, form, change) -> None:
        # ``obj`` already holds the form's values; the services compare against the stored row.
        conversation = Conversation.objects.select_for_update().get(pk=obj.pk)
        changed = set(form.changed_data)
        edits = form.cleaned_data
        # Assignment first: a survey sent on resolve names the agent who resolved it.
        assignment = {arg: edits[field] for field, arg in ASSIGN_FIELDS.items() if field in changed}
        if assignment:
            conversation = services.conversation_assign(
                by=request.user, conversation=conversation, **assignment
            )
        if changed & set(UPDATE_FIELDS):
            services.conversation_update(
                by=request.user,
                conversation=conversation,
                status=edits["status"] if "status" in changed else None,
                priority=edits["priority"] if "priority" in changed else None,
                tags=[tag.name for tag in edits["tags"]] if "tags" in changed else None,
            )

    def save_related(self, request, form, formsets, change) -> None:
        # Tags were set by conversation_update; only the (read-only) inlines remain.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj) -> None:
        self.delete_queryset(request, Conversation.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset) -> None:
        # Through the service, so every open inbox drops the conversation; all or nothing.
        try:
            with transaction.atomic():
                for conversation in queryset:
                    services.conversation_delete(by=request.user, conversation=conversation)
        except ApplicationError as refusal:
            raise PermissionDenied(refusal.message) from refusal


class AttachmentInline(admin.TabularInline):
    model = Attachment
    fields = ("kind", "file_name", "mime_type", "size", "status", "error_message", "attempts")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    actions = ["resend_failed"]
    list_display = ("created_at", "conversation", "sender", "type", "status", "error_code")
    list_filter = ("status", "sender", "type")
    search_fields = ("content", "external_id", "conversation__contact__name", "id")
    list_select_related = ("conversation", "conversation__contact")
    raw_id_fields = ("conversation", "author", "assistant", "reply_to", "integration", "workspace")
    readonly_fields = ("id", "created_at", "status_changed_at")
    inlines = [AttachmentInline]

    @admin.action(description=_("Resend failed outbound messages"))
    def resend_failed(self, request, queryset):
        failed = queryset.filter(status=Message.Status.FAILED).exclude(sender=Message.Sender.USER)
        count = 0
        for message in failed.select_related("conversation"):
            message_resend(message=message)
            count += 1
        self.message_user(request, _("%d messages queued again.") % count, messages.SUCCESS)


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    """Files of messages. Their bytes are only served through the members-only view; a failed
    download can be queued again from here."""

    actions = ["retry_downloads"]
    list_display = ("created_at", "kind", "file_name", "mime_type", "size", "status", "attempts")
    list_filter = ("status", "kind")
    search_fields = ("file_name", "id", "message__id", "error_code")
    raw_id_fields = ("message", "workspace")
    readonly_fields = [f.name for f in Attachment._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Download failed files again"))
    def retry_downloads(self, request, queryset):
        failed = queryset.filter(status=Attachment.Status.FAILED).select_related(
            "message__conversation"
        )
        count = 0
        for attachment in failed:
            services.attachment_retry_download(by=request.user, attachment=attachment)
            count += 1
        self.message_user(request, _("%d downloads queued again.") % count, messages.SUCCESS)


class ContactIdentityInline(admin.TabularInline):
    model = ContactIdentity
    fields = ("integration", "external_id", "metadata", "created_at")
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
    # A merge and its undo go through the services (the inbox's duplicate contacts page).
    readonly_fields = ("id", "merged_into", "merged_at", "created_at", "updated_at")


@admin.register(ContactMerge)
class ContactMergeAdmin(admin.ModelAdmin):
    """Read-only: merges are made and undone by members, through the services."""

    list_display = ("created_at", "primary", "secondary", "merged_by", "undo_until", "undone_at")
    list_filter = ("workspace",)
    list_select_related = ("primary", "secondary", "merged_by")
    search_fields = ("primary__name", "secondary__name", "primary__id", "secondary__id")
    readonly_fields = [field.name for field in ContactMerge._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


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
