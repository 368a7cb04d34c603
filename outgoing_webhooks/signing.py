"""The signature every delivery carries, and how a receiver checks it (docs/webhooks.md).

``X-Flame-Signature: v1=<hex>`` is HMAC-SHA256, keyed with the endpoint's secret, over
``<X-Flame-Timestamp>.<raw body>``; the timestamp (Unix seconds, per try) lets a receiver
refuse old replays, and ``X-Flame-Webhook-Id`` (the same on every try) lets it drop repeats.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver does (and the tests' receiver): compare in constant time."""
    try:
        expected = signature(secret, int(timestamp), body)
    except ValueError:
        return False
    return hmac.compare_digest(expected, header)
