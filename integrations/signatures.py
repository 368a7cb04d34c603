"""Webhook authenticity, checked on the raw request bytes before anything parses them."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Max

from integrations.models import Integration
from integrations.providers import provider_spec

META_SIGNATURE_PREFIX = "sha256="


def meta_signature_matches(body: bytes, header: str, secret: str) -> bool:
    if not header.startswith(META_SIGNATURE_PREFIX) or not secret:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len(META_SIGNATURE_PREFIX) :].strip().lower())


def _signing_secrets(integration: Integration) -> list[str]:
    names = provider_spec(integration.platform).signing_secret_credentials
    return [integration.credentials.get(name, "") for name in names]


@dataclass(frozen=True)
class Signer:
    pk: Any
    workspace_id: Any
    secrets: tuple[str, ...]


class _SignerCache:
    """Signing secrets per platform, reloaded only when that platform's integrations change.

    Loading and decrypting every integration of a platform on each webhook was the largest
    cost of the acknowledgement path. One indexed aggregate (latest ``updated_at`` and the
    count) tells whether anything was added, edited or removed since the last load; credentials
    only change through ``save()``, which moves ``updated_at``.
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[tuple, list[Signer]]] = {}
        self._checked: dict[str, float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _version(platform: str) -> tuple:
        state = Integration.objects.filter(platform=platform).aggregate(
            latest=Max("updated_at"), count=Count("id")
        )
        return (state["latest"], state["count"])

    def get(self, platform: str) -> list[Signer]:
        now = time.monotonic()
        with self._lock:
            cached = self._entries.get(platform)
            checked = self._checked.get(platform, 0.0)
        if cached and now - checked < VERSION_CHECK_SECONDS:
            return cached[1]
        version = self._version(platform)
        with self._lock:
            self._checked[platform] = now
            if cached and cached[0] == version:
                return cached[1]
        signers = [
            Signer(integration.pk, integration.workspace_id, tuple(_signing_secrets(integration)))
            for integration in Integration.objects.filter(platform=platform)
        ]
        with self._lock:
            self._entries[platform] = (version, signers)
        return signers

    def clear(self) -> None:
        """Forget everything (this process); other processes notice within a second."""
        with self._lock:
            self._entries.clear()
            self._checked.clear()


# Even the change check is a query: at hundreds of webhooks a second, once a second is enough.
VERSION_CHECK_SECONDS = 1.0
signer_cache = _SignerCache()


def meta_verified_integrations(platform: str, body: bytes, header: str) -> list[Signer]:
    """The integrations whose app secret produced this signature.

    A tenant can only ever sign with secrets it configured itself, so ingestion routes a body's
    entries to these integrations alone: a body signed with tenant A's secret can never write
    into tenant B's inbox, even if it names B's phone number or Page. An operator-wide
    ``META_APP_SECRET`` (one Meta app for the whole deployment) verifies for every integration.
    """
    candidates = signer_cache.get(platform)
    if settings.META_APP_SECRET and meta_signature_matches(body, header, settings.META_APP_SECRET):
        return candidates
    return [
        signer
        for signer in candidates
        if any(meta_signature_matches(body, header, secret) for secret in signer.secrets)
    ]


def telegram_secret_matches(integration: Integration, header: str) -> bool:
    expected = integration.credentials.get("secret_token", "")
    return bool(expected) and hmac.compare_digest(expected.encode(), header.encode())
