"""Where a webhook may be sent (SSRF): a public address over http(s), checked when it is saved
and again, on the addresses it resolves to then, before every try.

The request then goes to exactly the address that was checked (``delivery.send``), so a name
that resolves to a public address when checked and to 127.0.0.1 a moment later (DNS
rebinding) still reaches only the checked one. ``OUTGOING_WEBHOOKS_ALLOW_PRIVATE=1`` lets
tests and on-premise receivers use private, loopback and link-local addresses.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from ipaddress import ip_address
from urllib.parse import urlsplit

from django.conf import settings

from flame.exceptions import InvalidInput


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the IP the request goes to


class TargetRefused(Exception):
    """Why no request goes there; ``retryable`` when it may work later (DNS)."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


def _is_public(address: str) -> bool:
    ip = ip_address(address)
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _addresses(host: str, port: int) -> list[str]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused("The host name does not resolve.", retryable=True) from exc
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def resolve(url: str) -> Target:
    """The target of ``url``, or TargetRefused naming why not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("Use an http or https address.")
    if parts.username or parts.password:
        raise TargetRefused("Leave credentials out of the address.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise TargetRefused("The port is not valid.") from exc
    addresses = _addresses(parts.hostname, port)
    if not addresses:
        raise TargetRefused("The host name does not resolve.")
    allow_private = settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE
    if not allow_private and not all(_is_public(address) for address in addresses):
        raise TargetRefused("Private, loopback and link-local addresses are not allowed.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, parts.hostname, port, path, addresses[0])


def check_url(url: str) -> None:
    """Refuse (400, on ``url``) an address deliveries could not be sent to."""
    try:
        resolve(url)
    except TargetRefused as exc:
        raise InvalidInput("Invalid input.", details={"url": [str(exc)]}) from exc
