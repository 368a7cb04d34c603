"""What admins set for auto-assignment and alerts: which channels assign automatically, each
member's capacity, and how long a conversation may wait before someone is alerted."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import User
from flame.exceptions import InvalidInput, PermissionDeniedError
from workbench.models import AgentCapacity, ChannelAssignment, WorkspaceAlerts
from workbench.services.assignment import drain_on_commit

MAX_CAPACITY = 100
MAX_ALERT_MINUTES = 7 * 24 * 60


def _ensure_admin(by: User) -> None:
    if not by.is_workspace_admin:
        raise PermissionDeniedError("Only workspace admins can do this.")


@transaction.atomic
def channel_auto_assign_set(*, by: User, integration: Any, auto_assign: bool) -> ChannelAssignment:
    """Turn auto-assignment of ``integration`` (a channel of ``by``'s workspace) on or off;
    on drains its waiting conversations at once."""
    _ensure_admin(by)
    setting, _ = ChannelAssignment.objects.update_or_create(
        integration=integration,
        defaults={"workspace_id": integration.workspace_id, "auto_assign": auto_assign},
    )
    if auto_assign:
        drain_on_commit(integration.workspace_id)
    return setting


@transaction.atomic
def agent_capacity_set(*, by: User, member: User, capacity: int) -> AgentCapacity:
    _ensure_admin(by)
    if not 0 <= capacity <= MAX_CAPACITY:
        raise InvalidInput(
            "Invalid input.", details={"capacity": [f"Between 0 and {MAX_CAPACITY}."]}
        )
    slot, _ = AgentCapacity.objects.update_or_create(
        user=member, defaults={"workspace_id": member.member_workspace_id, "capacity": capacity}
    )
    drain_on_commit(member.member_workspace_id)  # more room: the queue may move
    return slot


@transaction.atomic
def waiting_alert_set(*, by: User, minutes: int | None) -> WorkspaceAlerts:
    _ensure_admin(by)
    if minutes is not None and not 1 <= minutes <= MAX_ALERT_MINUTES:
        raise InvalidInput(
            "Invalid input.",
            details={"waiting_alert_minutes": [f"Between 1 and {MAX_ALERT_MINUTES}."]},
        )
    alerts, _ = WorkspaceAlerts.objects.update_or_create(
        workspace_id=by.member_workspace_id, defaults={"waiting_alert_minutes": minutes}
    )
    return alerts
