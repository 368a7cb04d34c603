from __future__ import annotations

from django.urls import re_path

from accounts.api import views
from flame.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("users", views.UserViewSet, basename="user")
router.register("api-keys", views.ApiKeyViewSet, basename="api-key")
router.register("holidays", views.DateOverrideViewSet, basename="holiday")
router.register("holiday-feeds", views.HolidayFeedViewSet, basename="holiday-feed")

urlpatterns = [
    re_path(r"^auth/register/?$", views.RegisterView.as_view(), name="auth-register"),
    re_path(
        r"^auth/register/confirm/?$",
        views.SignupConfirmView.as_view(),
        name="auth-register-confirm",
    ),
    re_path(r"^auth/login/?$", views.LoginView.as_view(), name="auth-login"),
    re_path(r"^auth/refresh/?$", views.RefreshView.as_view(), name="auth-refresh"),
    # The seed's clients call this name; the schema lists the canonical path only.
    re_path(
        r"^auth/refresh-token/?$",
        views.RefreshAliasView.as_view(),
        name="auth-refresh-token",
    ),
    re_path(r"^auth/logout/?$", views.LogoutView.as_view(), name="auth-logout"),
    re_path(r"^auth/me/?$", views.MeView.as_view(), name="auth-me"),
    re_path(r"^audit-log/?$", views.AuditLogView.as_view(), name="audit-log"),
    re_path(r"^auth/profile/?$", views.ProfileView.as_view(), name="auth-profile"),
    re_path(r"^auth/availability/?$", views.AvailabilityView.as_view(), name="auth-availability"),
    re_path(
        r"^auth/change-password/?$", views.ChangePasswordView.as_view(), name="auth-change-password"
    ),
    re_path(
        r"^auth/forgot-password/?$", views.ForgotPasswordView.as_view(), name="auth-forgot-password"
    ),
    re_path(
        r"^auth/reset-password/?$", views.ResetPasswordView.as_view(), name="auth-reset-password"
    ),
    *router.urls,
]
