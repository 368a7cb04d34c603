from __future__ import annotations

from django.urls import path

from integrations.web import templates, views

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
        "<uuid:integration_id>/templates/",
        templates.template_list,
        name="settings-integration-templates",
    ),
    path(
        "<uuid:integration_id>/templates/sync/",
        templates.template_sync,
        name="settings-integration-templates-sync",
    ),
    path(
        "<uuid:integration_id>/bot-commands/",
        templates.bot_commands_save,
        name="settings-integration-bot-commands",
    ),
    path(
        "<uuid:integration_id>/delete/",
        views.integration_delete,
        name="settings-integration-delete",
    ),
]
