from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SatisfactionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "satisfaction"
    verbose_name = _("Satisfaction")

    def ready(self) -> None:
        from conversations import hooks
        from satisfaction import services

        hooks.conversation_resolved.connect(services.survey_send_on_resolve)
