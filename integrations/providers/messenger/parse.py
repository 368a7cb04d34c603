"""Messenger webhooks (``object: "page"``, channels.md §2.2): parsed by meta_messaging."""

from __future__ import annotations

from integrations.providers.meta_messaging import parse

__all__ = ["parse"]
