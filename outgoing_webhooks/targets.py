"""Where a webhook may be sent (SSRF): a public address over http(s), checked when it is saved
and again, on the addresses it resolves to then, before every try.

The check and the pinned connection live in ``flame/net.py`` (shared with the holiday feeds);
the request then goes to exactly the address that was checked (``delivery.post``).
``OUTGOING_WEBHOOKS_ALLOW_PRIVATE=1`` lets tests and on-premise receivers use private,
loopback and link-local addresses.
"""

from __future__ import annotations

from django.conf import settings

from flame import net
from flame.exceptions import InvalidInput

Target = net.Target
TargetRefused = net.TargetRefused


def resolve(url: str) -> Target:
    """The target of ``url``, or TargetRefused naming why not."""
    return net.resolve(url, allow_private=settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE)


def check_url(url: str) -> None:
    """Refuse (400, on ``url``) an address deliveries could not be sent to."""
    try:
        resolve(url)
    except TargetRefused as exc:
        raise InvalidInput("Invalid input.", details={"url": [str(exc)]}) from exc
