"""Who sees a conversation, and so its events: the one rule, written once.

Admins see every conversation of their workspace. Agents see the conversations assigned to
them and, when the workspace's ``agents_see_unassigned`` is on, the unassigned queue. Three
things must agree on it, or a client would see one thing live and another after a reconnect:

- the rows a user may read (``conversations_visible``, behind every selector);
- the event log a user catches up from (``events_visible``, ``GET /api/events``);
- live delivery: the channel-layer groups a user's sockets join (``groups_for``) and the groups
  an event is sent to (``event_groups``). A socket receives an event exactly when the two
  share a group, which ``conversations/tests/test_audience.py`` checks against the filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db.models import Q

from accounts.switches import AGENTS_SEE_UNASSIGNED
from conversations.models import Event


def user_group(user_id: Any) -> str:
    return f"user.{user_id}"


def members_group(workspace_id: Any) -> str:
    return f"workspace.{workspace_id}.members"


def admins_group(workspace_id: Any) -> str:
    return f"workspace.{workspace_id}.admins"


def queue_group(workspace_id: Any) -> str:
    return f"workspace.{workspace_id}.queue"


@dataclass(frozen=True)
class Viewer:
    """What decides what a member sees: their workspace, who they are, their role, and
    whether their workspace shows agents the unassigned queue."""

    workspace_id: UUID
    user_id: UUID
    is_admin: bool
    sees_queue: bool

    @classmethod
    def of(cls, user: Any) -> Viewer | None:
        """None for someone who sees nothing (no workspace, deactivated)."""
        if user.workspace_id is None or not user.is_active:
            return None
        is_admin = user.is_workspace_admin
        return cls(
            workspace_id=user.workspace_id,
            user_id=user.pk,
            is_admin=is_admin,
            sees_queue=is_admin or AGENTS_SEE_UNASSIGNED.is_on(user.workspace),
        )


def _assignee_rule(viewer: Viewer, assignee: str) -> Q:
    """Rows whose ``assignee`` column puts them in the viewer's sight (admins: all)."""
    if viewer.is_admin:
        return Q()
    rule = Q(**{assignee: viewer.user_id})
    if viewer.sees_queue:
        rule |= Q(**{f"{assignee}__isnull": True})
    return rule


def conversations_visible(viewer: Viewer | None) -> Q:
    """The conversations ``viewer`` may see, as a filter on Conversation."""
    if viewer is None:
        return Q(pk__in=[])
    return Q(workspace_id=viewer.workspace_id) & _assignee_rule(viewer, "assigned_agent_id")


def members_seeing(*, assigned_agent_id: UUID | None, sees_queue: bool) -> Q:
    """The members (a filter on User, within the conversation's workspace) who see a
    conversation assigned to ``assigned_agent_id``: the same rule from the other side. Admins
    always; its assignee; nobody else unless it is unassigned and agents see the queue."""
    rule = Q(role="admin")
    if assigned_agent_id is not None:
        return rule | Q(pk=assigned_agent_id)
    return Q() if sees_queue else rule


def events_visible(viewer: Viewer | None) -> Q:
    """The events ``viewer`` receives live, as a filter on Event. A conversation event carries
    who was assigned when it happened, so it follows the conversation's audience at the time."""
    if viewer is None:
        return Q(pk__in=[])
    personal = Q(audience=Event.Audience.USER, user_id=viewer.user_id)
    workspace = Q(audience=Event.Audience.WORKSPACE)
    conversation = Q(audience=Event.Audience.CONVERSATION) & _assignee_rule(
        viewer, "assigned_agent_id"
    )
    seen = personal | workspace | conversation
    if viewer.is_admin:
        seen |= Q(audience=Event.Audience.ADMINS)
    return Q(workspace_id=viewer.workspace_id) & seen


def groups_for(viewer: Viewer) -> list[str]:
    """The groups a viewer's sockets join."""
    groups = [user_group(viewer.user_id), members_group(viewer.workspace_id)]
    if viewer.is_admin:
        groups.append(admins_group(viewer.workspace_id))
    elif viewer.sees_queue:
        groups.append(queue_group(viewer.workspace_id))
    return groups


def event_groups(event: Event) -> list[str]:
    """The groups ``event`` is sent to: exactly the sockets whose viewer ``events_visible``
    admits it."""
    if event.audience == Event.Audience.SYSTEM:
        return []
    if event.audience == Event.Audience.USER:
        return [user_group(event.user_id)]
    if event.audience == Event.Audience.WORKSPACE:
        return [members_group(event.workspace_id)]
    if event.audience == Event.Audience.ADMINS:
        return [admins_group(event.workspace_id)]
    assignee = event.assigned_agent_id
    reached = user_group(assignee) if assignee else queue_group(event.workspace_id)
    return [admins_group(event.workspace_id), reached]
