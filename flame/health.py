"""``GET /health``: liveness and dependency status for load balancers and ops.

Cheap by design: one ``SELECT 1``, one Redis ``PING`` (when Redis is configured) and a read of
this process's resident memory. 503 when the database cannot be reached, because nothing useful
can be served without it; Redis down is reported as degraded but stays 200 in development,
where the embedded default has no Redis at all.
"""

from __future__ import annotations

import resource
import sys
import time

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

_STARTED_AT = time.monotonic()


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any failure means "down"; details go nowhere public
        return "down"
    return "up"


def _redis_status() -> str:
    if not settings.REDIS_URL:
        return "not_configured"
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
        )
        client.ping()
        client.close()
    except redis.RedisError:
        return "down"
    return "up"


def _memory() -> dict[str, float]:
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":  # macOS reports bytes, Linux KiB
        rss_kib //= 1024
    return {"max_rss_mb": round(rss_kib / 1024, 1)}


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    database = _database_status()
    redis_state = _redis_status()
    healthy = database == "up" and redis_state != "down"
    body = {
        "status": "ok" if healthy else ("degraded" if database == "up" else "error"),
        "timestamp": timezone.now().isoformat(),
        "version": settings.VERSION,
        "environment": settings.ENVIRONMENT,
        "uptime": round(time.monotonic() - _STARTED_AT, 1),
        "database": database,
        "redis": redis_state,
        "memory": _memory(),
    }
    return JsonResponse(body, status=200 if database == "up" else 503)
