"""Messenger Send API: ``POST /me/messages`` with the Page access token.

See docs/channels.md §messenger.send.
"""

from __future__ import annotations

from integrations.providers.meta_messaging import MetaMessagingClient

_MESSENGER = MetaMessagingClient(
    platform="facebook",
    token_credential="page_access_token",
    account_credential="page_id",
    profile_fields="name",
    sends_per_second=300,
    messenger_fields=True,
)

send = _MESSENGER.send
connect = _MESSENGER.connect
disconnect = _MESSENGER.disconnect
rate_limits = _MESSENGER.rate_limits
locate_media = _MESSENGER.locate_media
