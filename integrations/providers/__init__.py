"""Channel providers are plugins: ``integrations/providers/<platform>/`` with ``parse.py``
(webhook body → normalized items) and ``client.py`` (send, connect, disconnect); the contract is
in ``base.py``.

``PROVIDERS`` lists each platform's credentials and which of them is the platform account id
that webhooks are routed by; ``contract.py`` lists its ``client`` and ``parse`` modules, typed by
the contract. Adding a channel means adding a folder, one entry here and one line per table
there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from conversations.types import AttachmentKind, MediaLimit, WindowRule
from integrations.providers import base
from integrations.providers.base import ProviderClient, ProviderParser


def _whole(value: str) -> str:
    return value


def _telegram_bot_id(bot_token: str) -> str:
    # The bot id is the token's prefix ("123456:ABC…"); routing uses the per-integration URL,
    # but the id keeps one bot from being connected twice.
    return bot_token.split(":", 1)[0]


@dataclass(frozen=True)
class ProviderSpec:
    # What the channel is, for the people choosing one (the settings page).
    description: Promise
    required_credentials: tuple[str, ...]
    optional_credentials: tuple[str, ...] = ()
    # The credential holding the platform account id (phone_number_id, page id, ...).
    account_id_credential: str | None = None
    # Credentials holding app secrets that may sign this platform's webhooks.
    signing_secret_credentials: tuple[str, ...] = ()
    # How long after the customer's last message the business may write freely, how much longer
    # a human agent may, and whether templates may be sent after it (Meta's customer-service
    # window, docs/channels.md §meta.window); None: no such limit.
    reply_window: WindowRule | None = None
    # What the platform takes per kind of file we send (docs/channels.md §common.media); a kind
    # missing cannot be sent there. None: anything within our own cap (the sandbox).
    media_limits: Mapping[str, MediaLimit] | None = None
    # Credentials that also route webhooks: account-level updates (WhatsApp's template
    # reviews) name the business account, not the phone number.
    routing_credentials: tuple[str, ...] = ()
    # Meta's webhook handshake: the admin pastes the integration's verify token into the app.
    uses_verify_token: bool = False
    # The account id is ``account_id_of(credentials[account_id_credential])``.
    account_id_of: Callable[[str], str] = _whole
    # Credentials we make up when the admin leaves them out (random, URL-safe).
    generated_credentials: tuple[str, ...] = ()
    # Where the platform posts: one URL for the platform (routed by the signed body), one per
    # integration secret (Telegram), or one per integration (the sandbox's simulator).
    webhook_route: str = "platform"
    # A test channel with nothing to connect: active at once, fed by the simulator.
    simulated: bool = False


# WhatsApp, Messenger and Instagram: 24 hours (docs/channels.md §meta.window; WhatsApp 131047).
META_REPLY_WINDOW = timedelta(hours=24)
# Messenger and Instagram: a human agent may answer for 7 days with the HUMAN_AGENT tag.
HUMAN_AGENT_WINDOW = timedelta(days=7)
MB = 1024 * 1024


def _limits(
    size: int, types: str = "", *, caption: bool = True, max_caption: int | None = None
) -> MediaLimit:
    return MediaLimit(
        max_bytes=size * MB,
        mime_types=frozenset(types.split()),
        takes_caption=caption,
        max_caption=max_caption,
    )


Kind = AttachmentKind
# docs/channels.md §whatsapp.files: WhatsApp's supported media, captions up to 1,024.
WHATSAPP_MEDIA = {
    Kind.IMAGE: _limits(5, "image/jpeg image/png", max_caption=1024),
    Kind.VIDEO: _limits(16, "video/mp4 video/3gpp", max_caption=1024),
    Kind.AUDIO: _limits(16, "audio/aac audio/amr audio/mpeg audio/mp4 audio/ogg", caption=False),
    Kind.DOCUMENT: _limits(100, max_caption=1024),
}
# docs/channels.md §telegram.files: photos up to 10 MB, other files 50 MB, captions 1,024.
TELEGRAM_MEDIA = {
    Kind.IMAGE: _limits(10, "image/jpeg image/png image/webp", max_caption=1024),
    Kind.VIDEO: _limits(50, "video/mp4", max_caption=1024),
    Kind.AUDIO: _limits(50, "audio/mpeg audio/mp4 audio/ogg", max_caption=1024),
    Kind.DOCUMENT: _limits(50, max_caption=1024),
}
# docs/channels.md §messenger.files: 25 MB, no captions.
MESSENGER_MEDIA = {
    Kind.IMAGE: _limits(25, "image/jpeg image/png image/gif", caption=False),
    Kind.VIDEO: _limits(25, "video/mp4", caption=False),
    Kind.AUDIO: _limits(25, "audio/mpeg audio/mp4 audio/aac audio/wav", caption=False),
    Kind.DOCUMENT: _limits(25, caption=False),
}
# docs/channels.md §instagram.files: images 8 MB, audio and video 25 MB, PDFs; no captions.
INSTAGRAM_MEDIA = {
    Kind.IMAGE: _limits(8, "image/jpeg image/png image/gif", caption=False),
    Kind.VIDEO: _limits(25, "video/mp4 video/quicktime video/webm", caption=False),
    Kind.AUDIO: _limits(25, "audio/aac audio/mp4 audio/wav", caption=False),
    Kind.DOCUMENT: _limits(25, "application/pdf", caption=False),
}


PROVIDERS: dict[str, ProviderSpec] = {
    "whatsapp": ProviderSpec(
        description=_("A WhatsApp Business number on the Cloud API."),
        required_credentials=("access_token", "phone_number_id", "app_secret"),
        optional_credentials=("business_account_id", "verify_token"),
        account_id_credential="phone_number_id",
        signing_secret_credentials=("app_secret",),
        reply_window=WindowRule(free=META_REPLY_WINDOW, templates=True),
        media_limits=WHATSAPP_MEDIA,
        uses_verify_token=True,
        routing_credentials=("business_account_id",),
    ),
    "facebook": ProviderSpec(
        description=_("Messenger conversations of a Facebook Page."),
        required_credentials=("page_id", "page_access_token", "app_secret"),
        optional_credentials=("verify_token",),
        account_id_credential="page_id",
        signing_secret_credentials=("app_secret",),
        reply_window=WindowRule(free=META_REPLY_WINDOW, human_agent=HUMAN_AGENT_WINDOW),
        media_limits=MESSENGER_MEDIA,
        uses_verify_token=True,
    ),
    "instagram": ProviderSpec(
        description=_("Direct messages of an Instagram professional account."),
        required_credentials=("instagram_account_id", "access_token", "app_secret"),
        optional_credentials=("verify_token", "instagram_app_secret", "page_id"),
        account_id_credential="instagram_account_id",
        # Instagram-Login apps sign with the Instagram app secret, Page-linked ones with the
        # Facebook app secret: accept either (docs/channels.md §instagram.setups).
        signing_secret_credentials=("app_secret", "instagram_app_secret"),
        reply_window=WindowRule(free=META_REPLY_WINDOW, human_agent=HUMAN_AGENT_WINDOW),
        media_limits=INSTAGRAM_MEDIA,
        uses_verify_token=True,
    ),
    "telegram": ProviderSpec(
        description=_("A Telegram bot created with @BotFather."),
        required_credentials=("bot_token",),
        optional_credentials=("secret_token",),
        account_id_credential="bot_token",
        account_id_of=_telegram_bot_id,
        # Telegram echoes it in X-Telegram-Bot-Api-Secret-Token: [A-Za-z0-9_-], at most 256.
        generated_credentials=("secret_token",),
        webhook_route="secret",
        media_limits=TELEGRAM_MEDIA,
    ),
    "sandbox": ProviderSpec(
        description=_("A test channel: send yourself customer messages from a simulator."),
        required_credentials=(),
        webhook_route="integration",
        simulated=True,
    ),
}


def provider_spec(platform: str) -> ProviderSpec:
    return PROVIDERS[platform]


def reply_window(*, platform: str) -> WindowRule | None:
    return PROVIDERS[platform].reply_window


def media_limits(*, platform: str) -> Mapping[str, MediaLimit] | None:
    return PROVIDERS[platform].media_limits


def customer_address(*, integration, phone: str) -> str | None:
    """The customer's id on the integration's platform for ``phone`` ("" when there is no
    usable number), or None where the platform does not address people by number."""
    client = provider_client(integration.platform)
    if not isinstance(client, base.AddressesByPhone):
        return None
    return client.address_for_phone(phone) if phone else ""


def routing_ids(integration) -> list[str]:
    """Other ids of the integration's account that webhooks may be routed by (the WhatsApp
    business account, for account-level updates)."""
    spec = PROVIDERS.get(integration.platform)
    if spec is None:
        return []
    values = (str(integration.credentials.get(name) or "") for name in spec.routing_credentials)
    return [value for value in values if value]


def keeps_templates(platform: str) -> bool:
    """Whether the platform's business accounts keep message templates (WhatsApp)."""
    return isinstance(provider_client(platform), base.SyncsTemplates)


def has_command_menu(platform: str) -> bool:
    """Whether the platform's bots have a command menu (Telegram)."""
    return isinstance(provider_client(platform), base.RegistersCommands)


def uses_verify_token(platform: str) -> bool:
    """Whether the platform verifies its webhook with a verify token (WhatsApp, Messenger,
    Instagram); an unknown platform does not."""
    spec = PROVIDERS.get(platform)
    return spec is not None and spec.uses_verify_token


def provider_client(platform: str) -> ProviderClient | None:
    from integrations.providers.contract import CLIENTS

    return CLIENTS.get(platform)


def provider_parser(platform: str) -> ProviderParser | None:
    from integrations.providers.contract import PARSERS

    return PARSERS.get(platform)
