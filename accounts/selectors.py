"""Reads of accounts data, scoped to the caller's workspace (the only place scoping lives)."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts import presence
from accounts.models import User
from flame.exceptions import NotFoundError


def user_list_for(*, actor: User) -> QuerySet[User]:
    if actor.workspace_id is None:
        return User.objects.none()
    return User.objects.filter(workspace_id=actor.workspace_id).select_related("workspace")


def user_active(*, user_id) -> User | None:
    """The user as stored now, with their workspace; None once deactivated or deleted."""
    return User.objects.select_related("workspace").filter(pk=user_id, is_active=True).first()


def user_get_for(*, actor: User, user_id) -> User:
    """A member of the actor's workspace; anyone else's user is "not found", never "forbidden"."""
    user = user_list_for(actor=actor).filter(pk=user_id).first()
    if user is None:
        raise NotFoundError("Not found.")
    return user


def active_agent_ids(*, workspace_id) -> list:
    """Active members who are not admins: whose sight of the unassigned queue follows the
    workspace's ``agents_see_unassigned`` (admins see it either way)."""
    members = User.objects.filter(workspace_id=workspace_id, is_active=True)
    return list(members.exclude(role=User.Role.ADMIN).values_list("pk", flat=True))


def members_available_for_assignment(*, workspace_id, now) -> QuerySet[User]:
    """Members who take conversations now: active, online by their own choice, and here
    (accounts.presence)."""
    return User.objects.filter(
        presence.present(now),
        workspace_id=workspace_id,
        is_active=True,
        is_pending=False,
        availability=User.Availability.ONLINE,
    )


def seat_count(*, workspace_id) -> int:
    """The seats that count against the plan (accounts.plans): active members, admins
    included, and pending invitations."""
    return User.objects.filter(workspace_id=workspace_id, is_active=True).count()
