"""Every provider, as the rest of FLAME uses it: typed by the contract in ``base.py``.

Each ``client`` and ``parse`` module is assigned to a variable of the contract's Protocol
type, so mypy checks that every provider implements it with the right signatures; the
registry (``provider_client``, ``provider_parser``) answers from these tables.
"""

from __future__ import annotations

from integrations.providers.base import ProviderClient, ProviderParser
from integrations.providers.instagram import client as instagram_client
from integrations.providers.instagram import parse as instagram_parse
from integrations.providers.messenger import client as messenger_client
from integrations.providers.messenger import parse as messenger_parse
from integrations.providers.sandbox import client as sandbox_client
from integrations.providers.sandbox import parse as sandbox_parse
from integrations.providers.telegram import client as telegram_client
from integrations.providers.telegram import parse as telegram_parse
from integrations.providers.whatsapp import client as whatsapp_client
from integrations.providers.whatsapp import parse as whatsapp_parse

CLIENTS: dict[str, ProviderClient] = {
    "whatsapp": whatsapp_client,
    "facebook": messenger_client,
    "instagram": instagram_client,
    "telegram": telegram_client,
    "sandbox": sandbox_client,
}

PARSERS: dict[str, ProviderParser] = {
    "whatsapp": whatsapp_parse,
    "facebook": messenger_parse,
    "instagram": instagram_parse,
    "telegram": telegram_parse,
    "sandbox": sandbox_parse,
}
