"""Per-channel send rates (Telegram 1/s per chat and ~30/s per bot, WhatsApp 80/s per number).

Fixed one-window counters in the shared cache: every worker process sees the same counts. A
send that does not fit is postponed to the next window instead of being refused by the
platform with a 429.
"""

from __future__ import annotations

import math
import time

from django.core.cache import cache

from integrations.providers.base import RateLimit


def _count(limit: RateLimit, now: float) -> tuple[int, float]:
    window = math.floor(now / limit.per_seconds)
    key = f"send-rate:{limit.key}:{limit.per_seconds}:{window}"
    if cache.add(key, 1, timeout=limit.per_seconds + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=limit.per_seconds + 1)
            count = 1
    return count, (window + 1) * limit.per_seconds - now


def reserve(limits: list[RateLimit], *, now: float | None = None) -> float:
    """Take a slot in every bucket; return 0, or the seconds to wait before trying again."""
    now = time.time() if now is None else now
    for limit in limits:
        count, remaining = _count(limit, now)
        if count > limit.count:
            return max(remaining, 0.05)
    return 0.0
