"""Outgoing webhooks: the URLs a workspace subscribes to events, and each delivery to them.

A delivery is created once per (endpoint, event) — unique, so the dispatcher may read the
same event twice — and keeps the exact body it sends; every try of it is a
``WebhookAttempt`` (status code, duration, error), the log admins read and redeliver from.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from flame.fields import EncryptedJSONField


class EventType(models.TextChoices):
    MESSAGE_CREATED = "message.created", _("Message created")
    MESSAGE_UPDATED = "message.updated", _("Message updated (edited, delivered, read)")
    CONVERSATION_STATUS_CHANGED = "conversation.status_changed", _("Conversation status changed")
    CONVERSATION_CREATED = "conversation.created", _("Conversation created")
    CONVERSATION_ASSIGNED = "conversation.assigned", _("Conversation assigned or unassigned")
    CONTACT_CREATED = "contact.created", _("Contact created")
    CONTACT_UPDATED = "contact.updated", _("Contact updated")
    RATING_CREATED = "rating.created", _("Satisfaction rating received")


class WebhookEndpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list)
    # {"secret": "whsec_…"}: the HMAC key, encrypted at rest (flame.crypto).
    signing = EncryptedJSONField()
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=("workspace", "is_active"))]

    def __str__(self) -> str:
        return self.url

    @property
    def secret(self) -> str:
        return str((self.signing or {}).get("secret", ""))


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        RETRYING = "retrying", _("Retrying")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Failed")

    # Also the X-Flame-Webhook-Id header: the same on every try, so receivers can deduplicate.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    # The core's Event row it came from (conversations.Event; a plain column, events are pruned).
    source_event_id = models.BigIntegerField()
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # An admin asked to send it again: its next try is logged as manual.
    redelivery_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("endpoint", "source_event_id", "event_type"),
                name="webhook_delivery_once_per_event",
            )
        ]
        indexes = [
            models.Index(fields=("endpoint", "-created_at")),
            models.Index(
                fields=("next_attempt_at",),
                name="webhook_delivery_due",
                condition=models.Q(status__in=("pending", "retrying", "sending")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.pk}"


class WebhookAttempt(models.Model):
    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    number = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    manual = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("delivery", "number")

    def __str__(self) -> str:
        return f"#{self.number} {self.status_code or self.error}"


class DispatchCursor(models.Model):
    """How far the dispatcher has read the core's event log (one row)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_event_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"after event {self.last_event_id}"
