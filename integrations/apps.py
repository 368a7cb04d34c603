from __future__ import annotations

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"

    def ready(self) -> None:
        from conversations import hooks
        from integrations import delivery, media, providers, selectors, templates

        hooks.outbound_message_queued.connect(delivery.delivery_schedule)
        hooks.attachment_download_queued.connect(media.download_schedule)
        hooks.channel_for.provide(selectors.integration_get_for)
        hooks.customer_address.provide(providers.customer_address)
        hooks.reply_window.provide(providers.reply_window)
        hooks.media_limits.provide(providers.media_limits)
        hooks.message_template.provide(templates.template_render)
        hooks.template_choices.provide(templates.template_choices)
