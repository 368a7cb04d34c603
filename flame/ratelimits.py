"""Rate limits on the shared cache (django-ratelimit), with the wait a 429 should announce.

All counters live in the ``default`` cache, which is Redis in every multi-process deployment,
so limits hold across gunicorn workers and daphne processes alike.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

from flame.exceptions import ApplicationError

logger = logging.getLogger(__name__)


class RateLimited(ApplicationError):
    status_code = 429
    default_code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "Too many requests. Try again later.", details={"retry_after": retry_after}
        )
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class CountersUnavailable(RateLimited):
    """The counters' store (Redis) did not answer. A limit that guards accounts (sign-in,
    registration, password reset) cannot be checked, so the request is refused for a moment
    (503) rather than let through unguarded; the throttles that only protect capacity let it
    through instead (``flame.middleware``, ``flame.api.throttling``)."""

    status_code = 503
    default_code = "temporarily_unavailable"
    RETRY_AFTER = 5

    def __init__(self) -> None:
        ApplicationError.__init__(
            self,
            "Temporarily unavailable. Try again in a moment.",
            details={"retry_after": self.RETRY_AFTER},
        )
        self.retry_after = self.RETRY_AFTER


def _usage(request: HttpRequest, *, group: str, key: str, rate: str, increment: bool):
    try:
        return get_usage(
            request, group=group, key=lambda _g, _r: key, rate=rate, increment=increment
        )
    except (RedisError, OSError) as exc:
        logger.warning("Rate-limit counters unreachable", extra={"group": group})
        raise CountersUnavailable() from exc


@functools.cache
def _networks(entries: tuple[str, ...]) -> tuple[IPv4Network | IPv6Network, ...]:
    return tuple(ip_network(entry, strict=False) for entry in entries)


def address_in(address: str, entries) -> bool:
    """Whether ``address`` is one of ``entries`` (addresses or CIDR networks)."""
    try:
        ip = ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(entries)))


def _is_trusted_proxy(address: str) -> bool:
    return address_in(address, settings.TRUSTED_PROXIES)


def _forwarded_client(request: HttpRequest) -> str | None:
    """The first address, walking X-Forwarded-For from our side, that is not one of our proxies.

    Every hop appends the peer it saw, so only the right end of the list was written by
    proxies we run; whatever the client put on the left is its own claim.
    """
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not _is_trusted_proxy(hop):
            return hop if _is_ip(hop) else None
    return None


def _is_ip(value: str) -> bool:
    try:
        ip_address(value)
    except ValueError:
        return False
    return True


def client_ip(request: HttpRequest) -> str:
    """The caller's address. Forwarding headers count only when a trusted proxy sent them.

    ``TRUSTED_PROXIES`` lists the proxies in front of us (nginx in docker-compose); with none
    configured a client could otherwise pick a fresh X-Real-IP for every request and never be
    rate limited.
    """
    peer = request.META.get("REMOTE_ADDR", "")
    if not _is_trusted_proxy(peer):
        return peer
    real_ip = request.META.get("HTTP_X_REAL_IP", "").strip()
    return _forwarded_client(request) or (real_ip if _is_ip(real_ip) else "") or peer


def hit(request: HttpRequest, *, group: str, key: str, rate: str) -> int | None:
    """Count one request against ``group`` for ``key``; return seconds to wait when over."""
    usage = _usage(request, group=group, key=key, rate=rate, increment=True)
    if usage is None or not usage["should_limit"]:
        return None
    return max(1, usage["time_left"])


def exhausted(request: HttpRequest, *, group: str, key: str, rate: str) -> int | None:
    """Seconds to wait if ``key`` already used up ``rate`` in ``group``; counts nothing."""
    usage = _usage(request, group=group, key=key, rate=rate, increment=False)
    if usage is None or usage["count"] < usage["limit"]:
        return None
    return max(1, usage["time_left"])


def enforce(request: HttpRequest, *, group: str, key: str, rate: str) -> None:
    """Raise RateLimited when ``key`` has used up ``rate`` in ``group``."""
    wait = hit(request, group=group, key=key, rate=rate)
    if wait is not None:
        raise RateLimited(wait)


@dataclass(frozen=True)
class Limit:
    group: str
    key: str
    rate: str


def refuse_when_exhausted(request: HttpRequest, limits: list[Limit]) -> None:
    """Raise RateLimited if any of ``limits`` is used up, without counting this request."""
    waits = [exhausted(request, group=x.group, key=x.key, rate=x.rate) for x in limits if x.key]
    waits = [wait for wait in waits if wait is not None]
    if waits:
        raise RateLimited(max(waits))


def count_against(request: HttpRequest, limits: list[Limit]) -> None:
    for limit in limits:
        if limit.key:
            hit(request, group=limit.group, key=limit.key, rate=limit.rate)
