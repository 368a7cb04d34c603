"""Every write of the workbench, split by flow (``notifications``, ``assignment``,
``assignment_settings``, ``saved_replies``); callers import the public names from here."""

from workbench.services.assignment import assign_next, assignment_drain, assignment_sweep
from workbench.services.assignment_settings import (
    agent_capacity_set,
    channel_auto_assign_set,
    waiting_alert_set,
)
from workbench.services.notifications import (
    notification_emails_claim,
    notification_mark_read,
    notifications_mark_all_read,
    notifications_read_for_conversation,
    notify,
    preferences_update,
    waiting_alerts_record,
)
from workbench.services.saved_replies import (
    saved_reply_create,
    saved_reply_delete,
    saved_reply_update,
)

__all__ = [
    "agent_capacity_set",
    "assign_next",
    "assignment_drain",
    "assignment_sweep",
    "channel_auto_assign_set",
    "notification_emails_claim",
    "notification_mark_read",
    "notifications_mark_all_read",
    "notifications_read_for_conversation",
    "notify",
    "preferences_update",
    "saved_reply_create",
    "saved_reply_delete",
    "saved_reply_update",
    "waiting_alert_set",
    "waiting_alerts_record",
]
