"""Webhook authenticity, checked on the raw request bytes before anything parses them."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

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


def meta_verified_integrations(platform: str, body: bytes, header: str) -> list[Integration]:
    """The integrations whose app secret produced this signature.

    A tenant can only ever sign with secrets it configured itself, so ingestion routes a body's
    entries to these integrations alone: a body signed with tenant A's secret can never write
    into tenant B's inbox, even if it names B's phone number or Page. An operator-wide
    ``META_APP_SECRET`` (one Meta app for the whole deployment) verifies for every integration.
    """
    candidates = list(Integration.objects.filter(platform=platform))
    if settings.META_APP_SECRET and meta_signature_matches(body, header, settings.META_APP_SECRET):
        return candidates
    return [
        integration
        for integration in candidates
        if any(
            meta_signature_matches(body, header, secret) for secret in _signing_secrets(integration)
        )
    ]


def telegram_secret_matches(integration: Integration, header: str) -> bool:
    expected = integration.credentials.get("secret_token", "")
    return bool(expected) and hmac.compare_digest(expected.encode(), header.encode())
