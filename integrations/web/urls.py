from __future__ import annotations

from django.urls import path

from integrations.web import views

urlpatterns = [
    path("", views.integration_list, name="settings-integrations"),
    path("new/", views.integration_new, name="settings-integration-new"),
    path("new/<slug:platform>/", views.integration_create, name="settings-integration-create"),
    path("<uuid:integration_id>/", views.integration_detail, name="settings-integration"),
    path("<uuid:integration_id>/edit/", views.integration_edit, name="settings-integration-edit"),
    path(
        "<uuid:integration_id>/connect/",
        views.integration_connect,
        name="settings-integration-connect",
    ),
    path(
        "<uuid:integration_id>/disconnect/",
        views.integration_disconnect,
        name="settings-integration-disconnect",
    ),
    path(
        "<uuid:integration_id>/delete/",
        views.integration_delete,
        name="settings-integration-delete",
    ),
]
