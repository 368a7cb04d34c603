"""Rate limits on the shared cache (django-ratelimit), with the wait a 429 should announce.

All counters live in the ``default`` cache, which is Redis in every multi-process deployment,
so limits hold across gunicorn workers and daphne processes alike.
"""

from __future__ import annotations

from django.http import HttpRequest
from django_ratelimit.core import get_usage

from flame.exceptions import ApplicationError


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


def client_ip(request: HttpRequest) -> str:
    # nginx sets X-Real-IP to the peer it saw; REMOTE_ADDR is nginx itself behind the proxy.
    return request.META.get("HTTP_X_REAL_IP") or request.META.get("REMOTE_ADDR", "")


def hit(request: HttpRequest, *, group: str, key: str, rate: str) -> int | None:
    """Count one request against ``group`` for ``key``; return seconds to wait when over."""
    usage = get_usage(
        request, group=group, key=lambda _group, _request: key, rate=rate, increment=True
    )
    if usage is None or not usage["should_limit"]:
        return None
    return max(1, usage["time_left"])


def enforce(request: HttpRequest, *, group: str, key: str, rate: str) -> None:
    """Raise RateLimited when ``key`` has used up ``rate`` in ``group``."""
    wait = hit(request, group=group, key=key, rate=rate)
    if wait is not None:
        raise RateLimited(wait)
