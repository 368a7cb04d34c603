"""The vocabulary the core shares with the apps built on it.

Channel providers (``integrations/providers/``) turn webhooks into these normalized items and
the conversations services store them; both sides import them from here, so the provider
contract does not depend on the services' code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Platform(models.TextChoices):
    WHATSAPP = "whatsapp", "WhatsApp"
    FACEBOOK = "facebook", "Messenger"
    INSTAGRAM = "instagram", "Instagram"
    TELEGRAM = "telegram", "Telegram"
    SANDBOX = "sandbox", _("Sandbox")


# Message.Type.TEXT; spelled out so this module needs no models (models import Platform).
TEXT = "text"


@dataclass(frozen=True)
class InboundMessage:
    """A customer message normalized by a channel parser (integrations/providers/*/parse.py)."""

    external_contact_id: str
    external_id: str
    content: str = ""
    type: str = TEXT
    media_url: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    metadata: dict[str, Any] | None = None
    reply_to_external_id: str | None = None


@dataclass(frozen=True)
class EchoedMessage:
    """A message the business sent outside FLAME (or our own send) that the platform echoes."""

    external_id: str
    external_contact_id: str
    content: str = ""
    type: str = TEXT
    media_url: str = ""
    our_message_id: str | None = None
    metadata: dict[str, Any] | None = None
