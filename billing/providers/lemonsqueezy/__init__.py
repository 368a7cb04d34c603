"""Lemon Squeezy: hosted checkout links, its API for changes, its customer portal."""

from __future__ import annotations

from billing.providers.lemonsqueezy.client import LemonSqueezyProvider

__all__ = ["LemonSqueezyProvider"]
