"""The agent workbench's own tables: notifications and their preferences, saved replies, and
what auto-assignment needs (which channels, each agent's capacity, the waiting alert)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# How many open conversations an agent is given automatically unless an admin says otherwise.
DEFAULT_CAPACITY = 5


class Notification(models.Model):
    """Something a member should look at, in the bell's list until they read it."""

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned to you")
        MENTION = "mention", _("Mentioned you")
        MESSAGE = "message", _("New message")
        WAITING = "waiting", _("Waiting too long")

    # The kinds also sent by e-mail to a member who is not here.
    EMAILED_KINDS = (Kind.ASSIGNED, Kind.MENTION)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="+"
    )
    message = models.ForeignKey(
        "conversations.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who caused it (the colleague who assigned or mentioned); None: the customer or the system.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    text = models.CharField(max_length=300, blank=True)
    # New customer messages in one conversation fold into one unread notification.
    count = models.PositiveIntegerField(default=1)
    # What makes a notification one of a kind: "message:<conversation>" while unread,
    # "waiting:<conversation>:<since>" for ever (one alert per wait).
    key = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # When the e-mail digest took it (sent, or not wanted by the member): never twice.
    email_handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index("user", models.F("created_at").desc(), name="notification_list"),
            models.Index(
                fields=("user",), name="notification_unread", condition=Q(read_at__isnull=True)
            ),
            models.Index(
                fields=("created_at",),
                name="notification_email_due",
                condition=Q(email_handled_at__isnull=True, read_at__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=("user", "key"),
                condition=Q(kind="message", read_at__isnull=True),
                name="notification_one_unread_per_conversation",
            ),
            models.UniqueConstraint(
                fields=("user", "key"),
                condition=Q(kind="waiting"),
                name="notification_one_alert_per_wait",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class NotificationPreference(models.Model):
    """What a member wants to hear about, and how. Missing row: the defaults below."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preference",
    )
    notify_assigned = models.BooleanField(_("A conversation is assigned to me"), default=True)
    notify_mention = models.BooleanField(_("Someone mentions me in a note"), default=True)
    notify_message = models.BooleanField(_("A customer writes in my conversation"), default=True)
    notify_waiting = models.BooleanField(_("A conversation waits too long"), default=True)
    email_assigned = models.BooleanField(_("E-mail me assignments when I am away"), default=True)
    email_mention = models.BooleanField(_("E-mail me mentions when I am away"), default=True)
    browser = models.BooleanField(
        _("Show browser notifications when the tab is in the background"), default=False
    )
    sound = models.BooleanField(
        _("Play a sound for new messages when the tab is in the background"), default=False
    )
    last_emailed_at = models.DateTimeField(null=True, blank=True)

    FIELDS = (
        "notify_assigned",
        "notify_mention",
        "notify_message",
        "notify_waiting",
        "email_assigned",
        "email_mention",
        "browser",
        "sound",
    )

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"

    def wants(self, kind: str) -> bool:
        return bool(getattr(self, f"notify_{kind}"))

    def wants_email(self, kind: str) -> bool:
        return bool(getattr(self, f"email_{kind}", False))


class SavedReply(models.Model):
    """A canned response: a short code and its text, for the whole workspace (``owner``
    None, kept by admins) or for one member."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="saved_replies"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="saved_replies",
    )
    short_code = models.CharField(max_length=40)
    content = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("short_code",)
        constraints = [
            models.UniqueConstraint(
                "workspace",
                Lower("short_code"),
                condition=Q(owner__isnull=True),
                name="saved_reply_code_unique_in_workspace",
            ),
            models.UniqueConstraint(
                "owner",
                Lower("short_code"),
                condition=Q(owner__isnull=False),
                name="saved_reply_code_unique_per_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.short_code


class ChannelAssignment(models.Model):
    """Whether new conversations of a channel are given to agents automatically."""

    integration = models.OneToOneField(
        "integrations.Integration", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    auto_assign = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.integration_id}: {'auto' if self.auto_assign else 'manual'}"


class AgentCapacity(models.Model):
    """How many open conversations auto-assignment gives a member at most, and when it last
    gave them one (the round-robin's turn order)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    capacity = models.PositiveSmallIntegerField(default=DEFAULT_CAPACITY)
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.capacity}"


class WorkspaceAlerts(models.Model):
    """The workspace's threshold for "waiting too long" (None: no such alert)."""

    workspace = models.OneToOneField(
        "accounts.Workspace", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    waiting_alert_minutes = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.workspace_id}: {self.waiting_alert_minutes}"
