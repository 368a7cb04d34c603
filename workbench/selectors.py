"""Reads of the workbench, scoped to the caller (the only place scoping lives here): a
member's notifications and saved replies, and the auto-assignment settings admins see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet, TextField, Value
from django.db.models.functions import Concat
from django.utils import timezone

from accounts import presence
from accounts.models import User
from accounts.selectors import user_list_for
from conversations.models import Conversation
from conversations.search import Fold, contains_every_term, search_terms
from flame.exceptions import NotFoundError
from workbench.models import (
    DEFAULT_CAPACITY,
    AgentCapacity,
    ChannelAssignment,
    Notification,
    SavedReply,
    WorkspaceAlerts,
)

# The channel model is the integrations app's (a layer above): reached through the relation.
Channel: Any = ChannelAssignment._meta.get_field("integration").related_model


def notification_list_for(*, user: User, unread: bool | None = None) -> QuerySet[Notification]:
    notifications = Notification.objects.filter(user_id=user.pk)
    if unread is not None:
        notifications = notifications.filter(read_at__isnull=unread)
    return notifications.select_related("conversation__contact", "actor")


def notification_get_for(*, user: User, notification_id: Any) -> Notification:
    notification = notification_list_for(user=user).filter(pk=notification_id).first()
    if notification is None:
        raise NotFoundError("Notification not found.")
    return notification


def saved_reply_list_for(*, user: User, search: str | None = None) -> QuerySet[SavedReply]:
    """The workspace's replies and the member's own; ``search`` matches code or text, every
    word, accents and case ignored."""
    if user.workspace_id is None:
        return SavedReply.objects.none()
    replies = SavedReply.objects.filter(
        Q(owner__isnull=True) | Q(owner_id=user.pk), workspace_id=user.workspace_id
    )
    terms = search_terms(search or "")
    if not terms:
        return replies
    text = Fold(Concat("short_code", Value(" "), "content", output_field=TextField()))
    return replies.filter(contains_every_term(text, terms))


def saved_reply_get_for(*, user: User, reply_id: Any) -> SavedReply:
    reply = saved_reply_list_for(user=user).filter(pk=reply_id).first()
    if reply is None:
        raise NotFoundError("Saved reply not found.")
    return reply


def channel_get_for(*, user: User, integration_id: Any) -> Any:
    channel = Channel.objects.filter(pk=integration_id, workspace_id=user.workspace_id).first()
    if channel is None or user.workspace_id is None:
        raise NotFoundError("Channel not found.")
    return channel


@dataclass(frozen=True)
class ChannelRow:
    id: Any
    name: str
    platform: str
    auto_assign: bool


def channel_rows_for(*, user: User) -> list[ChannelRow]:
    channels = Channel.objects.filter(workspace_id=user.member_workspace_id).order_by("name")
    enabled = set(
        ChannelAssignment.objects.filter(
            workspace_id=user.member_workspace_id, auto_assign=True
        ).values_list("integration_id", flat=True)
    )
    return [
        ChannelRow(id=c.pk, name=c.name, platform=c.platform, auto_assign=c.pk in enabled)
        for c in channels
    ]


@dataclass(frozen=True)
class AgentRow:
    id: Any
    name: str
    email: str
    availability: str  # as colleagues see it (offline when away)
    capacity: int
    open_conversations: int


def agent_rows_for(*, user: User, now: datetime | None = None) -> list[AgentRow]:
    """Every active member with their status, capacity and open load (three queries)."""
    now = now or timezone.now()
    members = list(
        user_list_for(actor=user).filter(is_active=True, is_pending=False).order_by("name")
    )
    capacities = dict(
        AgentCapacity.objects.filter(user__in=members).values_list("user_id", "capacity")
    )
    loads = dict(
        Conversation.objects.filter(
            assigned_agent__in=members, status__in=Conversation.OPEN_STATUSES, snoozed=False
        )
        .values("assigned_agent_id")
        .annotate(count=Count("pk"))
        .values_list("assigned_agent_id", "count")
    )
    return [
        AgentRow(
            id=member.pk,
            name=member.name or member.email,
            email=member.email,
            availability=presence.effective_availability(member, now),
            capacity=capacities.get(member.pk, DEFAULT_CAPACITY),
            open_conversations=loads.get(member.pk, 0),
        )
        for member in members
    ]


def waiting_alert_minutes_for(*, user: User) -> int | None:
    alerts = WorkspaceAlerts.objects.filter(workspace_id=user.member_workspace_id).first()
    return alerts.waiting_alert_minutes if alerts else None
