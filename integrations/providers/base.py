"""The contract between channel providers and the rest of FLAME.

A provider package ``integrations/providers/<platform>/`` has:

``parse.py``
    ``parse(payload: dict, *, account_ids: set[str]) -> list[Routed]``: turn one webhook body
    into normalized items, each tagged with the platform account id it belongs to
    (phone_number_id / page id / IG account id; Telegram and sandbox use the integration's
    ``external_account_id``). Every entry, change, message and status is visited — never only
    ``[0]``. Items for accounts not in ``account_ids`` may be skipped by the parser or are
    dropped by ingestion. Unknown shapes yield nothing (or an ``unsupported`` message); a parser
    never raises on a well-formed JSON object it does not understand.

``client.py``
    ``send(*, integration, message) -> SendResult`` — the platform's send API (for a file, its
    upload first where the platform wants one) with explicit timeouts, raising
    ``RetryableSendError`` / ``PermanentSendError`` / ``AmbiguousSendError`` on failure;
    ``locate_media(*, integration, attachment) -> MediaLocation`` — where a customer's file can
    be downloaded from now (``DownloadsMedia``);
    ``connect(*, integration) -> ConnectResult`` — validate credentials (and register the
    webhook where the platform allows it);
    ``disconnect(*, integration) -> None``;
    ``rate_limits(*, integration, message) -> list[RateLimit]`` — buckets a send must fit in;
    ``answer_callback(*, integration, callback_id) -> None`` (Telegram only).

Ingestion (``integrations/ingest.py``) applies the items through conversations services, which
are idempotent on the platform ids, so parsing the same body twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from conversations.types import EchoedMessage, InboundMessage

if TYPE_CHECKING:
    from conversations.models import Attachment, ContactIdentity, Message
    from integrations.models import Integration


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery receipt for one of our messages, by its platform id."""

    external_id: str
    status: str  # sent | delivered | read | failed
    error_code: str = ""
    error_message: str = ""


@dataclass(frozen=True)
class WatermarkUpdate:
    """Messenger-style receipt: every message to this contact sent at or before ``watermark``."""

    external_contact_id: str
    status: str  # delivered | read
    watermark: datetime


@dataclass(frozen=True)
class Reaction:
    """A customer's reaction to a message; an empty ``emoji`` removes it."""

    target_external_id: str
    external_contact_id: str
    emoji: str


@dataclass(frozen=True)
class Edit:
    target_external_id: str
    content: str


@dataclass(frozen=True)
class Deletion:
    target_external_id: str


# A message the business sent from elsewhere (our own send echoed back, the Page inbox, the
# phone app). Our own sends are recognised by ``external_id`` (or ``our_message_id`` when the
# platform echoes metadata back) and change nothing; others are stored as agent messages.
Echo = EchoedMessage


@dataclass(frozen=True)
class CallbackAnswer:
    """Telegram callback queries must be answered or the button keeps spinning."""

    callback_id: str


@dataclass(frozen=True)
class ContactBlocked:
    """The customer blocked the bot (or, with ``blocked=False``, unblocked it)."""

    external_contact_id: str
    blocked: bool = True


@dataclass(frozen=True)
class ContactMoved:
    """The customer's address changed (a Telegram group became a supergroup)."""

    external_contact_id: str
    new_external_contact_id: str


@dataclass(frozen=True)
class TemplateStatusUpdate:
    """The platform reviewed, paused or disabled one of the account's message templates."""

    template_id: str
    name: str
    language: str
    status: str
    reason: str = ""


Item = (
    InboundMessage
    | StatusUpdate
    | WatermarkUpdate
    | Reaction
    | Edit
    | Deletion
    | Echo
    | CallbackAnswer
    | ContactBlocked
    | ContactMoved
    | TemplateStatusUpdate
)


@dataclass(frozen=True)
class Routed:
    account_id: str
    item: Item


# --- sending -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    external_id: str
    # e.g. WhatsApp's normalised wa_id, stored in the message metadata.
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConnectResult:
    external_account_id: str
    display_name: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RateLimit:
    """At most ``count`` sends per ``per_seconds`` for ``key`` (e.g. one Telegram chat)."""

    key: str
    count: int
    per_seconds: int = 1


class SendError(Exception):
    def __init__(self, reason: str, *, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class RetryableSendError(SendError):
    """Rate limited, 5xx, connection refused: nothing was accepted, sending again is safe."""

    def __init__(self, reason: str, *, code: str = "", retry_after: float | None = None) -> None:
        super().__init__(reason, code=code)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    """Bad token, window closed, blocked, chat not found: retrying cannot help.

    ``recipient_blocked`` says the customer blocked us: their identity is flagged, so later
    sends fail at once without calling the platform.
    """

    def __init__(self, reason: str, *, code: str = "", recipient_blocked: bool = False) -> None:
        super().__init__(reason, code=code)
        self.recipient_blocked = recipient_blocked


class RecipientMovedError(PermanentSendError):
    """The customer's address changed (a group became a supergroup): send again, once, to
    ``new_address``."""

    def __init__(self, reason: str, *, new_address: str, code: str = "recipient_moved") -> None:
        super().__init__(reason, code=code)
        self.new_address = new_address


class AmbiguousSendError(SendError):
    """The request may have been accepted (timeout after sending): never resend blindly."""


class ConnectError(Exception):
    """The platform refused the credentials; the message is the platform's, made readable."""


def recipient_identity(message: Message) -> ContactIdentity:
    """The customer's identity on the message's channel (who it goes to).

    Remembered on the message: a delivery asks for it for the send rates and for the send.
    """
    from conversations.models import ContactIdentity

    known: ContactIdentity | None = getattr(message, "_recipient_identity", None)
    if known is not None:
        return known
    identity = (
        ContactIdentity.objects.filter(
            contact_id=message.conversation.contact_id,
            # Only messages on a channel are delivered; the column itself is nullable.
            integration_id=message.integration_id,  # type: ignore[misc]
        )
        .order_by("created_at")
        .first()
    )
    if identity is None:
        raise PermanentSendError(
            "This contact has no address on this channel.", code="no_recipient"
        )
    setattr(message, "_recipient_identity", identity)  # noqa: B010 - memo
    return identity


def recipient_external_id(message: Message) -> str:
    """The platform id of the customer a message goes to (their identity on its channel)."""
    return recipient_identity(message).external_id


def outbound_attachment(message: Message) -> Attachment | None:
    """The file an agent attached to ``message`` (stored, ready to upload), if any."""
    return next((a for a in message.attachments.all() if a.is_ready), None)


# --- downloading customers' files ----------------------------------------------------------------


@dataclass(frozen=True)
class MediaLocation:
    """Where a customer's file can be fetched now, and what the platform says about it."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    size: int | None = None
    # The digest the platform announced (hex or base64 SHA-256), checked after the download.
    sha256: str = ""
    mime_type: str = ""
    file_name: str = ""
    # True where the platform hands out a fresh link on request (WhatsApp, Telegram), so a
    # refused link is worth another try; False for links that simply expire (Messenger).
    renewable: bool = True


class MediaError(Exception):
    """A download that did not work; ``retryable`` says whether another attempt may."""

    def __init__(self, reason: str, *, code: str, retryable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.retryable = retryable


# --- the contract (checked by mypy through integrations/providers/contract.py) ----------------


class ProviderParser(Protocol):
    def parse(self, payload: dict[str, Any], *, account_ids: set[str]) -> list[Routed]: ...


class ProviderClient(Protocol):
    def send(self, *, integration: Integration, message: Message) -> SendResult: ...

    def connect(self, *, integration: Integration) -> ConnectResult: ...

    def disconnect(self, *, integration: Integration) -> None: ...

    def rate_limits(self, *, integration: Integration, message: Message) -> list[RateLimit]: ...


@runtime_checkable
class AnswersCallbacks(Protocol):
    """A platform whose buttons send callbacks that must be acknowledged (Telegram)."""

    def answer_callback(self, *, integration: Integration, callback_id: str) -> None: ...


@runtime_checkable
class DownloadsMedia(Protocol):
    """A platform whose customers send files we fetch (every channel but the sandbox)."""

    def locate_media(self, *, integration: Integration, attachment: Attachment) -> MediaLocation:
        """Where ``attachment`` can be downloaded now; MediaError when it cannot be."""
        ...


@runtime_checkable
class SyncsTemplates(Protocol):
    """A platform whose business accounts keep approved message templates (WhatsApp)."""

    def fetch_templates(self, *, integration: Integration) -> list[dict[str, Any]]:
        """Every template of the account, as the platform describes them."""
        ...


@runtime_checkable
class RegistersCommands(Protocol):
    """A platform with a bot command menu (Telegram's setMyCommands)."""

    def register_commands(
        self, *, integration: Integration, commands: list[dict[str, str]]
    ) -> None: ...


@runtime_checkable
class AddressesByPhone(Protocol):
    """A platform that addresses customers by phone number (WhatsApp, the sandbox)."""

    def address_for_phone(self, phone: str) -> str: ...
