from __future__ import annotations

from django.urls import path

from assistants.web import views

urlpatterns = [
    path("", views.assistant_list, name="settings-assistants"),
    path("new/", views.assistant_create, name="settings-assistant-create"),
    path("<uuid:assistant_id>/", views.assistant_edit, name="settings-assistant"),
    path("<uuid:assistant_id>/delete/", views.assistant_delete, name="settings-assistant-delete"),
    path(
        "<uuid:assistant_id>/schedules/",
        views.schedule_list,
        name="settings-assistant-schedules",
    ),
    path(
        "<uuid:assistant_id>/schedules/<uuid:schedule_id>/",
        views.schedule_edit,
        name="settings-assistant-schedule",
    ),
    path(
        "<uuid:assistant_id>/schedules/<uuid:schedule_id>/delete/",
        views.schedule_delete,
        name="settings-assistant-schedule-delete",
    ),
    path(
        "<uuid:assistant_id>/knowledge/",
        views.knowledge_list,
        name="settings-assistant-knowledge",
    ),
    path(
        "<uuid:assistant_id>/knowledge/<uuid:document_id>/",
        views.knowledge_edit,
        name="settings-assistant-document",
    ),
    path(
        "<uuid:assistant_id>/knowledge/<uuid:document_id>/delete/",
        views.knowledge_delete,
        name="settings-assistant-document-delete",
    ),
    path("<uuid:assistant_id>/train/", views.assistant_train, name="settings-assistant-train"),
    path(
        "<uuid:assistant_id>/playground/",
        views.playground,
        name="settings-assistant-playground",
    ),
]
