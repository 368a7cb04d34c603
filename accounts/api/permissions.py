from __future__ import annotations

from rest_framework.permissions import BasePermission


class IsWorkspaceMember(BasePermission):
    """Signed in, active and belonging to a workspace (platform operators use admin)."""

    message = "You need to belong to a workspace."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.workspace_id)


class IsWorkspaceAdmin(BasePermission):
    message = "Only workspace admins can do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_workspace_admin)


class IsWorkspaceAdminOrReadOnly(BasePermission):
    """Members read; admins write."""

    message = "Only workspace admins can change this."

    def has_permission(self, request, view) -> bool:
        if not IsWorkspaceMember().has_permission(request, view):
            return False
        return request.method in ("GET", "HEAD", "OPTIONS") or request.user.is_workspace_admin
