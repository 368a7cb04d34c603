"""Subscriptions, the payment providers' events and invoices, and the notices the platform
shows workspace admins."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Workspace


class Provider(models.TextChoices):
    STRIPE = "stripe", "Stripe"
    LEMONSQUEEZY = "lemonsqueezy", "Lemon Squeezy"


class Subscription(models.Model):
    """A workspace's subscription at a payment provider: one row per workspace, kept after it
    ends (the customer is reused when the workspace subscribes again).

    ``state_at`` is the provider's time of the newest state applied: an event describing an
    older state never undoes it, whatever order the provider delivers them in.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAST_DUE = "past_due", _("Payment overdue")
        INCOMPLETE = "incomplete", _("Incomplete")
        PAUSED = "paused", _("Paused")
        CANCELED = "canceled", _("Ended")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="subscription"
    )
    provider = models.CharField(max_length=16, choices=Provider.choices)
    customer_id = models.CharField(max_length=255, blank=True)
    subscription_id = models.CharField(max_length=255, blank=True)
    plan = models.CharField(max_length=16, choices=Workspace.Plan.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    cancel_at_period_end = models.BooleanField(default=False)
    current_period_end = models.DateTimeField(null=True, blank=True)
    # A payment failed (at the provider's ``payment_failed_at``): the plan is kept until
    # ``grace_until``, then the workspace moves to Free (``lapsed_at``) until a payment
    # newer than the failure succeeds.
    payment_failed_at = models.DateTimeField(null=True, blank=True)
    grace_until = models.DateTimeField(null=True, blank=True)
    lapsed_at = models.DateTimeField(null=True, blank=True)
    state_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("provider", "subscription_id"),
                condition=~Q(subscription_id=""),
                name="billing_subscription_provider_id_unique",
            )
        ]
        indexes = [
            models.Index(fields=("provider", "customer_id")),
            models.Index(
                fields=("grace_until",),
                condition=Q(lapsed_at__isnull=True),
                name="billing_subscription_grace",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.workspace} · {self.plan} ({self.status})"

    @property
    def is_live(self) -> bool:
        """A subscription the provider still bills (changing or cancelling it is possible)."""
        return bool(self.subscription_id) and self.status != self.Status.CANCELED


# The statuses that keep a subscription's plan (until the grace period after a failed payment
# runs out).
ENTITLED_STATUSES = (Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE)


class BillingEvent(models.Model):
    """A payment provider's webhook event as received: stored once per (provider, event id),
    verified on its raw bytes before it is stored, applied in its own transaction."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")

    provider = models.CharField(max_length=16, choices=Provider.choices)
    event_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=100)
    payload = models.JSONField()
    workspace = models.ForeignKey(
        Workspace, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    # Why an event was ignored (stale, unknown workspace) or failed.
    note = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now, editable=False)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-received_at",)
        constraints = [
            models.UniqueConstraint(
                fields=("provider", "event_id"), name="billing_event_provider_id_unique"
            )
        ]
        indexes = [models.Index(fields=("status", "received_at"))]

    def __str__(self) -> str:
        return f"{self.provider} {self.kind} {self.event_id}"


class Invoice(models.Model):
    """A provider's invoice of a workspace's subscription, recorded from its events. ``paid``
    is final: a late "payment failed" never turns a paid invoice back."""

    class Status(models.TextChoices):
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Payment failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invoices")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    external_id = models.CharField(max_length=255)
    number = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    url = models.URLField(max_length=1000, blank=True)
    pdf_url = models.URLField(max_length=1000, blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    issued_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("-issued_at", "-created_at")
        constraints = [
            models.UniqueConstraint(
                fields=("provider", "external_id"), name="billing_invoice_provider_id_unique"
            )
        ]
        indexes = [models.Index(fields=("workspace", "-issued_at"))]

    def __str__(self) -> str:
        return f"{self.number or self.external_id} ({self.status})"


class Notice(models.Model):
    """What the platform tells workspace admins in the product: an operator's announcement
    (no workspace: every workspace that exists when it is sent), a failed payment, a plan
    that ran out."""

    class Kind(models.TextChoices):
        ANNOUNCEMENT = "announcement", _("Announcement")
        PAYMENT_FAILED = "payment_failed", _("Payment failed")
        PLAN_LAPSED = "plan_lapsed", _("Plan ended")

    class Level(models.TextChoices):
        INFO = "info", _("Information")
        WARNING = "warning", _("Warning")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, null=True, blank=True, related_name="notices"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.INFO)
    title = models.CharField(max_length=200)
    body = models.TextField(max_length=2000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=("workspace", "-created_at"))]

    def __str__(self) -> str:
        return self.title


class NoticeDismissal(models.Model):
    """An admin closed a notice: it is not shown to them again."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="dismissals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    dismissed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("notice", "user"), name="billing_notice_dismissal_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.notice_id} dismissed by {self.user_id}"
