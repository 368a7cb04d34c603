"""Reads of accounts data, scoped to the caller's workspace (the only place scoping lives)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts import presence
from accounts.models import ApiKey, AuditEntry, DateOverride, HolidayFeed, User
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


def api_key_list_for(*, actor: User) -> QuerySet[ApiKey]:
    """The keys of an admin's workspace (agents and operators see none)."""
    if not actor.is_workspace_admin:
        return ApiKey.objects.none()
    keys = ApiKey.objects.filter(workspace_id=actor.member_workspace_id)
    return keys.select_related("created_by").order_by("-created_at", "-id")


def api_key_get_for(*, actor: User, key_id) -> ApiKey:
    key = api_key_list_for(actor=actor).filter(pk=key_id).first()
    if key is None:
        raise NotFoundError("Not found.")
    return key


def api_key_by_digest(*, digest: str) -> ApiKey | None:
    """The key with this digest, with the admin it acts as and their workspace (one query)."""
    keys = ApiKey.objects.select_related("created_by__workspace")
    return keys.filter(digest=digest).first()


def audit_entries_for(*, actor: User) -> QuerySet[AuditEntry]:
    """The audit log of an admin's workspace, newest first (agents and operators see none
    here; operators read every workspace's in Django admin)."""
    if not actor.is_workspace_admin:
        return AuditEntry.objects.none()
    entries = AuditEntry.objects.filter(workspace_id=actor.member_workspace_id)
    return entries.select_related("actor_user", "actor_api_key").order_by("-created_at", "-id")


def audit_entries_filtered(
    entries: QuerySet[AuditEntry],
    *,
    actions: list[str] | None = None,
    actor_id=None,
    actor_type: str | None = None,
    since=None,
    until=None,
    target_type: str | None = None,
    target_id: str | None = None,
) -> QuerySet[AuditEntry]:
    """``entries`` narrowed by the API's and the page's filters (``until`` is exclusive)."""
    if actions:
        entries = entries.filter(action__in=actions)
    if actor_id is not None:
        entries = entries.filter(Q(actor_user_id=actor_id) | Q(actor_api_key_id=actor_id))
    if actor_type:
        entries = entries.filter(actor_type=actor_type)
    if since is not None:
        entries = entries.filter(created_at__gte=since)
    if until is not None:
        entries = entries.filter(created_at__lt=until)
    if target_type:
        entries = entries.filter(target_type=target_type)
    if target_id:
        entries = entries.filter(target_id=target_id)
    return entries


# --- the business calendar ------------------------------------------------------------------------


def date_override_list_for(*, actor: User, first=None, last=None) -> QuerySet[DateOverride]:
    """The dates with their own hours of a member's workspace, in date order, optionally
    between ``first`` and ``last`` (inclusive); with the feed each came from (one query)."""
    if not actor.is_active or actor.workspace_id is None:
        return DateOverride.objects.none()
    rows = DateOverride.objects.filter(workspace_id=actor.workspace_id).select_related("feed")
    if first is not None:
        rows = rows.filter(date__gte=first)
    if last is not None:
        rows = rows.filter(date__lte=last)
    return rows.order_by("date")


def date_override_get_for(*, actor: User, override_id) -> DateOverride:
    override = date_override_list_for(actor=actor).filter(pk=override_id).first()
    if override is None:
        raise NotFoundError("Not found.")
    return override


def holiday_feed_list_for(*, actor: User) -> QuerySet[HolidayFeed]:
    """The holiday feeds of an admin's workspace (agents and operators see none)."""
    if not actor.is_workspace_admin:
        return HolidayFeed.objects.none()
    feeds = HolidayFeed.objects.filter(workspace_id=actor.member_workspace_id)
    return feeds.select_related("workspace").order_by("name", "id")


def holiday_feed_get_for(*, actor: User, feed_id) -> HolidayFeed:
    feed = holiday_feed_list_for(actor=actor).filter(pk=feed_id).first()
    if feed is None:
        raise NotFoundError("Not found.")
    return feed
