from django.urls import path

from workbench.web import views

urlpatterns = [
    path("notifications/", views.notification_preferences, name="settings-notifications"),
    path("saved-replies/", views.saved_replies, name="settings-saved-replies"),
    path("saved-replies/<uuid:reply_id>/", views.saved_reply, name="settings-saved-reply"),
    path(
        "saved-replies/<uuid:reply_id>/delete/",
        views.saved_reply_delete,
        name="settings-saved-reply-delete",
    ),
    path("assignment/", views.assignment, name="settings-assignment"),
    path(
        "assignment/channels/<uuid:integration_id>/",
        views.assignment_channel,
        name="settings-assignment-channel",
    ),
    path(
        "assignment/agents/<uuid:user_id>/",
        views.assignment_agent,
        name="settings-assignment-agent",
    ),
]
