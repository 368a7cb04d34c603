from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkbenchConfig(AppConfig):
    """Notifications, saved replies and auto-assignment: the agent's tools around the core.
    It sits beside assistants and satisfaction (docs/architecture.md) and learns what happens
    in the core through its hooks."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "workbench"
    verbose_name = _("Agent workbench")

    def ready(self) -> None:
        from accounts import hooks as accounts_hooks
        from conversations import hooks
        from workbench.services import assignment, notifications

        hooks.activity_recorded.connect(notifications.notify_on_activity)
        hooks.activity_recorded.connect(assignment.drain_on_activity)
        hooks.note_added.connect(notifications.notify_mentioned)
        hooks.customer_messages_stored.connect(notifications.notify_customer_messages)
        hooks.customer_messages_stored.connect(assignment.drain_on_customer_messages)
        accounts_hooks.member_available.connect(assignment.drain_on_member_available)
