from django.urls import path

from outgoing_webhooks.web import views

urlpatterns = [
    path("", views.endpoints, name="settings-webhooks"),
    path("<uuid:endpoint_id>/", views.endpoint_detail, name="settings-webhook"),
    path("<uuid:endpoint_id>/delete/", views.endpoint_delete, name="settings-webhook-delete"),
    path(
        "<uuid:endpoint_id>/deliveries/<uuid:delivery_id>/redeliver/",
        views.delivery_redeliver,
        name="settings-webhook-redeliver",
    ),
]
