"""Notifications: the bell's list, what it is told about, and the e-mail for the absent.

Four moments make one (each only if the member wants it, ``NotificationPreference``): a
conversation assigned to them (by someone else, or by auto-assignment), a note mentioning
them, a customer writing in their conversation (folded into one unread notification per
conversation), and a conversation waiting longer than the workspace's threshold (one per wait).
Each new or updated notification is a personal ``notification:new`` event, so the bell
updates live on every page the member has open and catches up after a reconnect.

Mentions and assignments a member has not read are e-mailed as one digest once they are a
little old, only while no socket of theirs is open, and at most once per interval
(``notification_emails_claim``): never one e-mail per message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from accounts import presence
from accounts.models import User
from conversations import activity as history
from conversations import realtime
from conversations.activity import Activity
from conversations.models import Conversation, Message
from conversations.selectors import waiting_for_human
from workbench.models import Notification, NotificationPreference, WorkspaceAlerts
from workbench.serializers import notification_data

PREVIEW = 280


def preferences_of(user_id: Any) -> NotificationPreference:
    """The member's preferences (the defaults until they change one)."""
    found = NotificationPreference.objects.filter(user_id=user_id).first()
    return found or NotificationPreference(user_id=user_id)


def unread_count(user_id: Any) -> int:
    return Notification.objects.filter(user_id=user_id, read_at__isnull=True).count()


def _announce(notification: Notification) -> None:
    realtime.event_record(
        workspace_id=notification.workspace_id,
        kind="notification:new",
        payload={
            "notification": notification_data(notification),
            "unread_count": unread_count(notification.user_id),
        },
        user_id=notification.user_id,
    )


def _loaded(notification_id: Any) -> Notification:
    return Notification.objects.select_related("conversation__contact", "actor").get(
        pk=notification_id
    )


def notify(
    *,
    user_id: Any,
    kind: str,
    conversation: Conversation,
    actor_id: Any = None,
    message: Message | None = None,
    text: str = "",
) -> Notification | None:
    """One notification for ``user_id`` if they want this kind; announced live."""
    if not preferences_of(user_id).wants(kind):
        return None
    created = Notification.objects.create(
        workspace_id=conversation.workspace_id,
        user_id=user_id,
        kind=kind,
        conversation=conversation,
        actor_id=actor_id,
        message=message,
        text=text[:PREVIEW],
    )
    notification = _loaded(created.pk)
    _announce(notification)
    return notification


# --- the moments (hooks of the core) -------------------------------------------------------------


def notify_on_activity(*, conversation: Conversation, activity: Activity) -> None:
    """``activity_recorded``: a conversation assigned to someone other than who did it."""
    if activity.kind != history.ASSIGNED:
        return
    agent_id = UUID(activity.data["agent"]["id"])
    if agent_id == activity.by_id:
        return  # they took it themselves
    notify(
        user_id=agent_id,
        kind=Notification.Kind.ASSIGNED,
        conversation=conversation,
        actor_id=activity.by_id,
    )


def notify_mentioned(*, message: Message, mentioned: Sequence[User]) -> None:
    """``note_added``: each member the note names (its author excluded by the core)."""
    for member in mentioned:
        notify(
            user_id=member.pk,
            kind=Notification.Kind.MENTION,
            conversation=message.conversation,
            actor_id=message.author_id,
            message=message,
            text=message.content,
        )


def notify_customer_messages(
    *, messages: Sequence[Message], conversations: Mapping[Any, Conversation]
) -> None:
    """``customer_messages_stored``: the assignee of each conversation hears of its new
    messages, in one unread notification per conversation that grows until read."""
    latest: dict[Any, list[Message]] = {}
    for message in messages:
        latest.setdefault(message.conversation_id, []).append(message)
    for conversation_id, stored in latest.items():
        conversation = conversations[conversation_id]
        agent_id = conversation.assigned_agent_id
        if agent_id is None or not preferences_of(agent_id).notify_message:
            continue
        _fold_messages(conversation, agent_id, stored)


def _message_text(message: Message) -> str:
    return (message.content or f"[{message.type}]")[:PREVIEW]


def _fold_messages(conversation: Conversation, agent_id: UUID, stored: list[Message]) -> None:
    newest = max(stored, key=lambda message: message.created_at)
    key = f"message:{conversation.pk}"
    unread = Notification.objects.filter(
        user_id=agent_id,
        kind=Notification.Kind.MESSAGE,
        key=key,
        read_at__isnull=True,
    )
    changes = {"text": _message_text(newest), "message": newest, "created_at": timezone.now()}
    if not unread.update(count=F("count") + len(stored), **changes):
        try:
            with transaction.atomic():
                Notification.objects.create(
                    workspace_id=conversation.workspace_id,
                    user_id=agent_id,
                    kind=Notification.Kind.MESSAGE,
                    conversation=conversation,
                    key=key,
                    count=len(stored),
                    **changes,
                )
        except IntegrityError:
            # Another worker created it a moment ago: add to theirs.
            unread.update(count=F("count") + len(stored), **changes)
    _announce(_loaded(unread.get().pk))


# --- waiting too long (the beat task) ------------------------------------------------------------


def _waiting_recipients(conversation: Conversation) -> list[Any]:
    """The assignee; nobody assigned: the workspace's admins (who see the queue)."""
    if conversation.assigned_agent_id is not None:
        return [conversation.assigned_agent_id]
    admins = User.objects.filter(
        workspace_id=conversation.workspace_id,
        role=User.Role.ADMIN,
        is_active=True,
        is_pending=False,
    )
    return list(admins.values_list("pk", flat=True))


def _overdue(workspace_id: Any, minutes: int, now: datetime) -> QuerySet[Conversation]:
    alerted = Notification.objects.filter(
        kind=Notification.Kind.WAITING,
        conversation_id=OuterRef("pk"),
        created_at__gte=OuterRef("waiting_since"),
    )
    return (
        Conversation.objects.filter(
            waiting_for_human(),
            workspace_id=workspace_id,
            snoozed=False,
            waiting_since__lte=now - timedelta(minutes=minutes),
        )
        .exclude(Exists(alerted))
        .select_related("contact")
        .order_by("waiting_since")[:200]
    )


def _alert(conversation: Conversation, user_id: Any) -> bool:
    since = conversation.waiting_since
    if since is None or not preferences_of(user_id).notify_waiting:
        return False
    key = f"waiting:{conversation.pk}:{since.isoformat()}"
    try:
        with transaction.atomic():
            created = Notification.objects.create(
                workspace_id=conversation.workspace_id,
                user_id=user_id,
                kind=Notification.Kind.WAITING,
                conversation=conversation,
                key=key,
                text=conversation.last_message[:PREVIEW],
            )
    except IntegrityError:
        return False  # alerted already by another sweep
    _announce(_loaded(created.pk))
    return True


@transaction.atomic
def waiting_alerts_record(*, now: datetime | None = None) -> int:
    """Alert on every conversation waiting longer than its workspace allows, once per wait."""
    now = now or timezone.now()
    alerted = 0
    for alerts in WorkspaceAlerts.objects.filter(waiting_alert_minutes__isnull=False):
        minutes = alerts.waiting_alert_minutes or 0
        for conversation in _overdue(alerts.workspace_id, minutes, now):
            for user_id in _waiting_recipients(conversation):
                alerted += _alert(conversation, user_id)
    return alerted


# --- reading ---------------------------------------------------------------------------------


def _read_announced(user: User, ids: list[str] | None) -> None:
    realtime.event_record(
        workspace_id=user.member_workspace_id,
        kind="notification:read",
        payload={"ids": ids, "unread_count": unread_count(user.pk)},
        user_id=user.pk,
    )


@transaction.atomic
def notification_mark_read(*, user: User, notification: Notification) -> Notification:
    """Read (idempotent); the member's other tabs are told."""
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        _read_announced(user, [str(notification.pk)])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user: User) -> int:
    marked = Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    if marked:
        _read_announced(user, None)
    return marked


@transaction.atomic
def notifications_read_for_conversation(*, user: User, conversation: Conversation) -> int:
    """Opening a conversation reads what the bell said about it."""
    marked = Notification.objects.filter(
        user=user, conversation=conversation, read_at__isnull=True
    ).update(read_at=timezone.now())
    if marked:
        _read_announced(user, None)
    return marked


@transaction.atomic
def preferences_update(*, user: User, changes: dict[str, bool]) -> NotificationPreference:
    preference, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    for name, value in changes.items():
        if name in NotificationPreference.FIELDS:
            setattr(preference, name, bool(value))
    preference.save()
    return preference


# --- the e-mail digest (the beat task) -----------------------------------------------------------


def _email_due(now: datetime) -> QuerySet[Notification]:
    delay = timedelta(seconds=settings.NOTIFICATION_EMAIL_DELAY_SECONDS)
    return Notification.objects.filter(
        kind__in=Notification.EMAILED_KINDS,
        read_at__isnull=True,
        email_handled_at__isnull=True,
        created_at__lte=now - delay,
    )


def _digest_for(user_id: Any, now: datetime) -> list[UUID]:
    """Claim ``user_id``'s due notifications for one e-mail (in the caller's transaction): the
    ones to send, [] when they are here, e-mailed lately, or want none of them."""
    locked = NotificationPreference.objects.select_for_update(skip_locked=True)
    preference = locked.filter(user_id=user_id).first()
    if preference is None:
        return []  # another worker holds this member's digest
    interval = timedelta(seconds=settings.NOTIFICATION_EMAIL_INTERVAL_SECONDS)
    if preference.last_emailed_at and preference.last_emailed_at > now - interval:
        return []
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or presence.has_open_socket(user, now):
        return []  # they see the bell; an e-mail would only repeat it
    due = list(_email_due(now).filter(user_id=user_id))
    _email_due(now).filter(pk__in=[n.pk for n in due]).update(email_handled_at=now)
    wanted = [n.pk for n in due if preference.wants_email(n.kind)]
    if wanted:
        preference.last_emailed_at = now
        preference.save(update_fields=["last_emailed_at"])
    return wanted


def notification_emails_claim(*, now: datetime | None = None) -> dict[str, list[str]]:
    """Each member's digest to send (member id → notification ids), claimed once."""
    now = now or timezone.now()
    members = list(_email_due(now).values_list("user_id", flat=True).distinct())
    NotificationPreference.objects.bulk_create(
        [NotificationPreference(user_id=user_id) for user_id in members], ignore_conflicts=True
    )
    digests: dict[str, list[str]] = {}
    for user_id in members:
        with transaction.atomic():
            ids = _digest_for(user_id, now)
        if ids:
            digests[str(user_id)] = [str(pk) for pk in ids]
    return digests
