from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from accounts.forms import UserChangeAdminForm, UserCreationAdminForm
from accounts.models import User, Workspace
from accounts.services import users_deactivate


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
class UserAdmin(DjangoUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
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

    @admin.action(description=_("Deactivate selected users (revokes their tokens)"))
    def deactivate_users(self, request, queryset):
        count = users_deactivate(users=queryset)
        self.message_user(request, _("%d users deactivated.") % count, messages.SUCCESS)
