from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from flame.fields import EncryptedJSONField


class Platform(models.TextChoices):
    WHATSAPP = "whatsapp", "WhatsApp"
    FACEBOOK = "facebook", "Messenger"
    INSTAGRAM = "instagram", "Instagram"
    TELEGRAM = "telegram", "Telegram"
    SANDBOX = "sandbox", _("Sandbox")


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


class Integration(models.Model):
    """A connected channel account (a WhatsApp number, a Page, an IG account, a bot)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")
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

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()})"

    @property
    def webhook_url(self) -> str:
        base = f"{settings.PUBLIC_BASE_URL}/api/webhooks/{self.platform}"
        if self.platform in (Platform.TELEGRAM, Platform.SANDBOX):
            return f"{base}/{self.webhook_secret}"
        return base
