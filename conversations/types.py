"""The vocabulary the core shares with the apps built on it.

Channel providers (``integrations/providers/``) turn webhooks into these normalized items and
the conversations services store them; both sides import them from here, so the provider
contract does not depend on the services' code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
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
# Message metadata: the code of the link the customer opened the chat from (a Telegram deep
# link, docs/channels.md §telegram.links), read by the inbox and the assistants.
START_PAYLOAD = "start_payload"


class AttachmentKind(models.TextChoices):
    """What a file is, as the thread shows it and the platforms limit it."""

    IMAGE = "image", _("Image")
    VIDEO = "video", _("Video")
    AUDIO = "audio", _("Audio")
    DOCUMENT = "document", _("Document")


@dataclass(frozen=True)
class InboundAttachment:
    """A file a channel reported with a message: where to fetch it, and what it claims to be.

    ``source_id`` is the platform's handle (WhatsApp media id, Telegram file_id) and
    ``source_url`` a direct link (Messenger and Instagram CDN URLs, which expire); ``sha256``
    is the digest the platform announced, when it gives one.
    """

    kind: str
    source_id: str = ""
    source_url: str = ""
    mime_type: str = ""
    file_name: str = ""
    caption: str = ""
    sha256: str = ""
    size: int | None = None


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
    attachments: tuple[InboundAttachment, ...] = ()
    # The customer's handle on the platform (Telegram @username), kept on their identity.
    contact_username: str = ""


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
    attachments: tuple[InboundAttachment, ...] = ()


@dataclass(frozen=True)
class MediaLimit:
    """What a platform accepts for one kind of file we send: a size cap and, where it is picky,
    the MIME types (empty: any type)."""

    max_bytes: int
    mime_types: frozenset[str] = frozenset()
    takes_caption: bool = True
    max_caption: int | None = None


@dataclass(frozen=True)
class WindowRule:
    """A platform's customer-service window (docs/channels.md §meta.window): how long after the
    customer's last message the business may write freely, how much longer a human agent may
    (tagged), and whether approved templates may be sent outside it."""

    free: timedelta
    human_agent: timedelta | None = None
    templates: bool = False


@dataclass(frozen=True)
class RenderedTemplate:
    """An approved message template filled in: the text the thread shows and what the
    channel's send needs (name, language, components) in the message metadata."""

    content: str
    metadata: dict[str, Any] = field(default_factory=dict)
