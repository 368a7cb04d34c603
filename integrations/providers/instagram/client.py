"""Instagram Send API: ``POST /me/messages`` with the IG access token.

See docs/channels.md §instagram.send.
"""

from __future__ import annotations

from integrations.providers.meta_messaging import MetaMessagingClient

_INSTAGRAM = MetaMessagingClient(
    platform="instagram",
    token_credential="access_token",
    account_credential="instagram_account_id",
    profile_fields="username,name",
    sends_per_second=100,
    messenger_fields=False,
)

send = _INSTAGRAM.send
connect = _INSTAGRAM.connect
disconnect = _INSTAGRAM.disconnect
rate_limits = _INSTAGRAM.rate_limits
locate_media = _INSTAGRAM.locate_media
