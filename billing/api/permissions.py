from __future__ import annotations

from rest_framework.permissions import BasePermission


class IsPlatformStaff(BasePermission):
    """The people who run the platform (``is_staff``); workspace admins are not."""

    message = "Only platform staff can do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_staff)
