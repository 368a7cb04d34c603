"""Channel providers are plugins: ``integrations/providers/<platform>/`` with ``parse.py``
(webhook body → normalized items) and ``client.py`` (send, connect, disconnect); the contract is
in ``base.py``.

``PROVIDERS`` lists each platform's package, the credentials it needs and which credential is
the platform account id that webhooks are routed by. Adding a channel means adding a folder and
one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module
from types import ModuleType


@dataclass(frozen=True)
class ProviderSpec:
    package: str
    required_credentials: tuple[str, ...]
    optional_credentials: tuple[str, ...] = ()
    # The credential holding the platform account id (phone_number_id, page id, ...).
    account_id_credential: str | None = None
    # Credentials holding app secrets that may sign this platform's webhooks.
    signing_secret_credentials: tuple[str, ...] = ()
    # How long after the customer's last message the business may write first (Meta's
    # customer-service window); None: no such limit.
    reply_window: timedelta | None = None
    # Meta's webhook handshake: the admin pastes the integration's verify token into the app.
    uses_verify_token: bool = False


# WhatsApp, Messenger and Instagram: 24 hours (docs/channels.md §meta.window; WhatsApp 131047).
META_REPLY_WINDOW = timedelta(hours=24)


PROVIDERS: dict[str, ProviderSpec] = {
    "whatsapp": ProviderSpec(
        package="integrations.providers.whatsapp",
        required_credentials=("access_token", "phone_number_id", "app_secret"),
        optional_credentials=("waba_id", "verify_token"),
        account_id_credential="phone_number_id",
        signing_secret_credentials=("app_secret",),
        reply_window=META_REPLY_WINDOW,
        uses_verify_token=True,
    ),
    "facebook": ProviderSpec(
        package="integrations.providers.messenger",
        required_credentials=("page_id", "page_access_token", "app_secret"),
        optional_credentials=("verify_token",),
        account_id_credential="page_id",
        signing_secret_credentials=("app_secret",),
        reply_window=META_REPLY_WINDOW,
        uses_verify_token=True,
    ),
    "instagram": ProviderSpec(
        package="integrations.providers.instagram",
        required_credentials=("instagram_account_id", "access_token", "app_secret"),
        optional_credentials=("verify_token", "instagram_app_secret", "page_id"),
        account_id_credential="instagram_account_id",
        # Instagram-Login apps sign with the Instagram app secret, Page-linked ones with the
        # Facebook app secret: accept either (docs/channels.md §instagram.setups).
        signing_secret_credentials=("app_secret", "instagram_app_secret"),
        reply_window=META_REPLY_WINDOW,
        uses_verify_token=True,
    ),
    "telegram": ProviderSpec(
        package="integrations.providers.telegram",
        required_credentials=("bot_token",),
        optional_credentials=("secret_token",),
    ),
    "sandbox": ProviderSpec(package="integrations.providers.sandbox", required_credentials=()),
}


def provider_spec(platform: str) -> ProviderSpec:
    return PROVIDERS[platform]


def reply_window(*, platform: str) -> timedelta | None:
    return PROVIDERS[platform].reply_window


def customer_address(*, integration, phone: str) -> str | None:
    """The customer's id on the integration's platform for ``phone`` ("" when there is no
    usable number), or None where the platform does not address people by number (its client
    has no ``address_for_phone``)."""
    by_phone = getattr(provider_client(integration.platform), "address_for_phone", None)
    if by_phone is None:
        return None
    return by_phone(phone) if phone else ""


def uses_verify_token(platform: str) -> bool:
    """Whether the platform verifies its webhook with a verify token (WhatsApp, Messenger,
    Instagram); an unknown platform does not."""
    spec = PROVIDERS.get(platform)
    return spec is not None and spec.uses_verify_token


def _module(platform: str, name: str) -> ModuleType | None:
    spec = PROVIDERS.get(platform)
    if spec is None:
        return None
    try:
        return import_module(f"{spec.package}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith(spec.package):
            return None
        raise


def provider_client(platform: str) -> ModuleType | None:
    return _module(platform, "client")


def provider_parser(platform: str) -> ModuleType | None:
    return _module(platform, "parse")
