from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from conversations.types import Platform
from flame.fields import EncryptedJSONField


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


class Integration(models.Model):
    """A connected channel account (a WhatsApp number, a Page, an IG account, a bot)."""

    class Status(models.TextChoices):
        # A context of its own: Spanish agrees in gender ("activo"; a conversation is "activa").
        ACTIVE = "active", pgettext_lazy("channel status", "Active")
        INACTIVE = "inactive", pgettext_lazy("channel status", "Inactive")
        ERROR = "error", _("Error")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="integrations"
    )
    platform = models.CharField(max_length=16, choices=Platform.choices)
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.INACTIVE)
    # Never returned by the API, never shown in admin, encrypted at rest (flame.crypto).
    credentials = EncryptedJSONField(default=dict, blank=True)
    # phone_number_id / page id / IG account id / bot id: how webhooks find their integration.
    external_account_id = models.CharField(max_length=64, blank=True, db_index=True)
    verify_token = models.CharField(max_length=128, default=_new_secret)
    # Path secret for per-integration webhook URLs (Telegram): the bot token never goes in a URL.
    webhook_secret = models.CharField(max_length=128, default=_new_secret, unique=True)
    default_assistant = models.ForeignKey(
        "assistants.Assistant",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="default_for_integrations",
    )
    last_sync = models.DateTimeField(null=True, blank=True)
    last_webhook_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)
        indexes = [models.Index(fields=("platform", "external_account_id"))]
        constraints = [
            # One WhatsApp number / Page / IG account / bot belongs to one integration, or
            # webhooks could not be routed unambiguously.
            models.UniqueConstraint(
                fields=("platform", "external_account_id"),
                condition=~models.Q(external_account_id=""),
                name="integration_account_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()})"

    @property
    def webhook_url(self) -> str:
        from integrations.providers import provider_spec

        base = f"{settings.PUBLIC_BASE_URL}/api/webhooks/{self.platform}"
        route = provider_spec(self.platform).webhook_route
        if route == "secret":
            return f"{base}/{self.webhook_secret}"
        if route == "integration":
            return f"{base}/{self.pk}"  # the simulator's URL; callers sign in instead
        return base


class WebhookEvent(models.Model):
    """One webhook delivery as received: stored before it is acknowledged, processed after.

    ``body_sha256`` is unique per platform, so a platform re-delivering the identical body is
    acknowledged without being stored or processed twice. Messages inside are deduplicated again
    by their own platform ids, which covers retries that re-batch updates differently.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSING = "processing", _("Processing")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")

    id = models.BigAutoField(primary_key=True)
    platform = models.CharField(max_length=16, choices=Platform.choices)
    # Set when the delivery can only belong to one integration (per-integration URL, or one
    # verified signer); Meta batches are routed per entry during processing.
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, null=True, blank=True, related_name="webhook_events"
    )
    # No index of its own: webhook_event_stats leads with it (see Meta).
    workspace = models.ForeignKey(
        "accounts.Workspace",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # Integrations whose secret verified the signature: the only ones this body may touch.
    verified_integration_ids = models.JSONField(default=list, blank=True)
    body = models.BinaryField()
    body_sha256 = models.CharField(max_length=64)
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Set by the worker that claimed the event (possibly with others in one batch).
    claim_token = models.UUIDField(null=True, blank=True)
    # A receipt waiting for its message is not claimable again before this time.
    not_before = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    items_count = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    # A claim is a lease the claiming worker keeps renewing; once it runs out (the worker died)
    # the sweeper gives the event to another worker.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        constraints = [
            models.UniqueConstraint(
                fields=("platform", "body_sha256"), name="webhook_event_body_unique"
            )
        ]
        # Every event is written three times (stored, claimed, finished), and no update can be
        # HOT (the status is indexed), so each index here costs three entries per message. The
        # ones only the queue reads cover the rows still in it: the sweep and the claim's
        # token lookups never ask for a finished event, which nearly every row soon is.
        indexes = [
            models.Index(
                fields=("status", "received_at"),
                name="webhook_event_waiting",
                condition=models.Q(status__in=("received", "processing")),
            ),
            models.Index(
                fields=("claim_token",),
                name="webhook_event_claim",
                condition=models.Q(status="processing"),
            ),
            # The claim's "oldest pending events" (ORDER BY id LIMIT n): only the pending rows,
            # a handful, however many processed ones the table keeps. Through the primary key
            # PostgreSQL walked every processed event older than the first pending one, and
            # the status index above still visits every row a status change left dead until
            # vacuum: a claim cost 30 ms of database CPU with 45,000 events kept.
            models.Index(
                fields=("id",), name="webhook_event_pending", condition=models.Q(status="received")
            ),
            models.Index(
                fields=("workspace", "platform", "received_at"), name="webhook_event_stats"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform} #{self.pk} ({self.status})"


class MessageTemplate(models.Model):
    """A message template of a business account, as the platform has it (WhatsApp's, synced
    from ``GET /{waba-id}/message_templates`` and kept current by status webhooks).

    Data-driven: the components are stored as the platform describes them, and the send fills
    their ``{{1}}`` / ``{{name}}`` placeholders (integrations/templates.py).
    """

    class Status(models.TextChoices):
        APPROVED = "approved", _("Approved")
        PENDING = "pending", _("In review")
        REJECTED = "rejected", _("Rejected")
        PAUSED = "paused", _("Paused")
        DISABLED = "disabled", _("Disabled")
        IN_APPEAL = "in_appeal", _("In appeal")
        PENDING_DELETION = "pending_deletion", _("Being deleted")
        LIMIT_EXCEEDED = "limit_exceeded", _("Limit exceeded")
        ARCHIVED = "archived", _("Archived")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="message_templates"
    )
    # The platform's template id.
    external_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=16)
    category = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    # Why Meta rejected or paused it (its reason code), when it says.
    status_reason = models.CharField(max_length=200, blank=True)
    # "positional" ({{1}}) or "named" ({{first_name}}).
    parameter_format = models.CharField(max_length=12, default="positional")
    components = models.JSONField(default=list, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name", "language")
        constraints = [
            models.UniqueConstraint(
                fields=("integration", "name", "language"), name="template_unique_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"
