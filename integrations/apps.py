from __future__ import annotations

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"

    def ready(self) -> None:
        from conversations import hooks
        from integrations import delivery, providers, selectors

        hooks.outbound_message_queued.connect(delivery.delivery_schedule)
        hooks.channel_for.provide(selectors.integration_get_for)
        hooks.customer_address.provide(providers.customer_address)
        hooks.reply_window.provide(providers.reply_window)
