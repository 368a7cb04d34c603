from __future__ import annotations

from django.apps import AppConfig


class OutgoingWebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "outgoing_webhooks"
    verbose_name = "Outgoing webhooks"
