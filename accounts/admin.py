from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from accounts.forms import OperatorPasswordChangeForm, UserChangeAdminForm, UserCreationAdminForm
from accounts.hooks import member_rights_changed
from accounts.models import ApiKey, AuditEntry, DateOverride, HolidayFeed, User, Workspace
from accounts.services import (
    api_keys_revoke_by_operator,
    user_update_access_by_operator,
    users_deactivate,
)
from flame.admin import ReadOnlyAdmin, ServiceAdminMixin

# What a user's rights rest on: the change form hands these to a service (tokens revoked on
# deactivation, sockets closed), never to save().
ACCESS_FIELDS = ("role", "is_active")


class MemberInline(admin.TabularInline):
    model = User
    fields = ("email", "name", "role", "is_active", "last_login")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("name", "plan", "language", "timezone", "member_count", "created_at")
    list_filter = ("plan", "language")
    search_fields = ("name", "id")
    readonly_fields = ("id", "created_at", "updated_at")
    inlines = [MemberInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_member_count=Count("members", filter=Q(members__is_active=True)))
        )

    @admin.display(description=_("Active members"), ordering="_member_count")
    def member_count(self, workspace: Workspace) -> int:
        return workspace._member_count


@admin.register(User)
class UserAdmin(ServiceAdminMixin, DjangoUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    change_password_form = OperatorPasswordChangeForm
    ordering = ("email",)
    list_display = ("email", "name", "workspace", "role", "is_active", "is_staff", "last_login")
    list_filter = ("role", "is_active", "is_staff", "workspace__plan")
    search_fields = ("email", "name", "workspace__name")
    list_select_related = ("workspace",)
    autocomplete_fields = ("workspace",)
    readonly_fields = ("id", "last_login", "created_at", "updated_at")
    actions = ["deactivate_users"]
    fieldsets = (
        (None, {"fields": ("id", "email", "password")}),
        (_("Profile"), {"fields": ("name", "avatar_url", "language")}),
        (_("Workspace"), {"fields": ("workspace", "role")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "name", "workspace", "role", "password1", "password2"),
            },
        ),
    )

    service_messages = {
        "self_deactivation": _("You cannot deactivate yourself."),
        "permission_denied": _("Only platform operators can do this."),
    }

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        # A member's workspace is set when they are created: moving them would leave their
        # conversations, ratings and open sockets behind in the old one.
        return (*self.readonly_fields, "workspace")

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        changed = set(form.changed_data)
        access = {field: getattr(obj, field) for field in ACCESS_FIELDS if field in changed}
        for field in access:
            setattr(obj, field, form.initial[field])  # the service below makes this change
        super().save_model(request, obj, form, change)
        if access:
            user_update_access_by_operator(operator=request.user, user=obj, **access)

    # Deletions bypass the services; the admin runs each in a transaction, so the sockets are
    # told after it commits.
    def delete_model(self, request, obj) -> None:
        user_id = obj.pk
        super().delete_model(request, obj)
        member_rights_changed.send(user_ids=[user_id])

    def delete_queryset(self, request, queryset) -> None:
        user_ids = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        member_rights_changed.send(user_ids=user_ids)

    @admin.action(description=_("Deactivate selected users (revokes their tokens)"))
    def deactivate_users(self, request, queryset):
        count = users_deactivate(users=queryset)
        self.message_user(request, _("%d users deactivated.") % count, messages.SUCCESS)


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    """Keys of every workspace, for operators: read-only (workspaces' admins make them), with a
    revoke action for a leaked key. Neither the secret nor its digest is shown."""

    list_display = (
        "name",
        "workspace",
        "prefix",
        "scopes",
        "created_by",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("workspace__plan",)
    search_fields = ("name", "prefix", "workspace__name")
    list_select_related = ("workspace", "created_by")
    fields = (
        "id",
        "name",
        "workspace",
        "created_by",
        "scopes",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "revoked_by",
    )
    readonly_fields = fields
    actions = ["revoke_keys"]

    @admin.action(description=_("Revoke selected API keys"), permissions=["view"])
    def revoke_keys(self, request, queryset):
        count = api_keys_revoke_by_operator(operator=request.user, keys=queryset)
        self.message_user(request, _("%d API keys revoked.") % count, messages.SUCCESS)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Every workspace's audit log and the platform-wide entries, for operators: read-only
    (entries are only ever added, by the services)."""

    list_display = (
        "created_at",
        "action",
        "workspace",
        "actor_type",
        "actor_label",
        "target_type",
        "target_id",
        "ip",
    )
    list_filter = ("action", "actor_type", ("workspace", admin.EmptyFieldListFilter))
    search_fields = ("actor_label", "target_id", "workspace__name", "action")
    list_select_related = ("workspace",)
    date_hierarchy = "created_at"
    fields = (
        "id",
        "created_at",
        "workspace",
        "action",
        "actor_type",
        "actor_label",
        "actor_user",
        "actor_api_key",
        "target_type",
        "target_id",
        "data",
        "ip",
    )
    readonly_fields = fields


@admin.register(DateOverride)
class DateOverrideAdmin(ReadOnlyAdmin):
    """The business calendar: why an assistant kept quiet, or auto-assignment waited, that day."""

    list_display = ("date", "workspace", "name", "closed", "opens", "closes", "source")
    list_filter = ("closed", "source")
    search_fields = ("name", "workspace__name")
    list_select_related = ("workspace",)
    date_hierarchy = "date"


@admin.register(HolidayFeed)
class HolidayFeedAdmin(ReadOnlyAdmin):
    """Feeds by name and host: a private calendar's full address carries its own secret."""

    list_display = ("name", "workspace", "host", "enabled", "last_fetched_at", "last_error")
    list_filter = ("enabled",)
    search_fields = ("name", "workspace__name")
    list_select_related = ("workspace",)
    fields = (
        "name",
        "workspace",
        "host",
        "enabled",
        "last_fetched_at",
        "last_succeeded_at",
        "last_error",
        "created_by",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("Host"))
    def host(self, feed: HolidayFeed) -> str:
        return urlsplit(feed.url).hostname or ""
