from __future__ import annotations

from django.urls import re_path

from flame.api.routers import OptionalSlashRouter
from workbench.api import views

router = OptionalSlashRouter()
router.register("notifications", views.NotificationViewSet, basename="notification")
router.register("saved-replies", views.SavedReplyViewSet, basename="saved-reply")

ID = r"(?P<pk>[0-9a-fA-F-]{32,36})"

urlpatterns = [
    re_path(
        r"^notifications/preferences/?$",
        views.PreferencesView.as_view(),
        name="notification-preferences",
    ),
    re_path(r"^assignment/?$", views.AssignmentSettingsView.as_view(), name="assignment"),
    re_path(
        rf"^assignment/channels/{ID}/?$",
        views.ChannelAssignmentView.as_view(),
        name="assignment-channel",
    ),
    re_path(
        rf"^assignment/agents/{ID}/?$",
        views.AgentCapacityView.as_view(),
        name="assignment-agent",
    ),
    *router.urls,
]
