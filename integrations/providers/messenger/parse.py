"""Messenger webhooks (``object: "page"``): parsed by meta_messaging.

See docs/channels.md §messenger.events.
"""

from __future__ import annotations

from integrations.providers.meta_messaging import parse

__all__ = ["parse"]
