from __future__ import annotations

from django.apps import AppConfig


class AssistantsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "assistants"

    def ready(self) -> None:
        from assistants import selectors, services
        from conversations import hooks

        hooks.agent_replied.connect(services.analysis_after_agent_reply)
        hooks.assistant_for.provide(selectors.assistant_get_for)
        hooks.assistant_choices.provide(selectors.assistant_scope_for)
        hooks.assistant_handles.provide(selectors.assistant_handles)
