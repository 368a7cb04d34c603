"""``GET /metrics``: every process's counters (``flame.metrics``) plus the levels read now.

Counters and histograms come from the process, or from every process sharing
``PROMETHEUS_MULTIPROC_DIR`` (gunicorn's workers, daphne, Celery). Levels are read at scrape
time, so every process agrees on them: sockets open now (presence), Celery queue depths (the
broker's lists), webhook events waiting to be processed.

Access: a bearer token equal to ``METRICS_TOKEN``, or a client address in
``METRICS_ALLOWED_IPS`` (behind ``TRUSTED_PROXIES``, the forwarded client). With neither
configured the endpoint answers 403: platform figures are never public by default.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from billing import selectors
from flame import metrics
from flame.api.errors import error_response
from flame.ratelimits import address_in, client_ip
from integrations.models import WebhookEvent

logger = logging.getLogger(__name__)

WAITING = (WebhookEvent.Status.RECEIVED, WebhookEvent.Status.PROCESSING)


def celery_queues() -> list[str]:
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    return sorted(routed | {settings.CELERY_TASK_DEFAULT_QUEUE})


def _queue_depths() -> dict[str, int]:
    """Tasks waiting in each Celery queue: the broker's Redis lists (none without one)."""
    broker = settings.CELERY_BROKER_URL
    if settings.CELERY_TASK_ALWAYS_EAGER or not broker.startswith(("redis://", "rediss://")):
        return {}
    import redis

    client = redis.Redis.from_url(broker, socket_timeout=1, socket_connect_timeout=1)
    pipeline = client.pipeline()
    queues = celery_queues()
    for queue in queues:
        pipeline.llen(queue)
    return dict(zip(queues, pipeline.execute(), strict=True))


class LevelsCollector(Collector):
    """What is a level at a moment, read when scraped."""

    def collect(self) -> Iterator[Metric]:
        sockets = GaugeMetricFamily(
            "flame_websockets_open", "WebSockets open now (presence's count)."
        )
        sockets.add_metric([], selectors.open_socket_count(now=timezone.now()))
        yield sockets
        waiting = GaugeMetricFamily(
            "flame_webhook_events_waiting",
            "Webhook events stored and not processed yet, by platform.",
            labels=["platform"],
        )
        rows = WebhookEvent.objects.filter(status__in=WAITING).values("platform")
        for row in rows.annotate(count=Count("id")).order_by("platform"):
            waiting.add_metric([row["platform"]], row["count"])
        yield waiting
        yield self._queues()

    def _queues(self) -> Metric:
        depth = GaugeMetricFamily(
            "flame_queue_depth", "Tasks waiting in each Celery queue.", labels=["queue"]
        )
        try:
            depths = _queue_depths()
        except Exception:  # noqa: BLE001 - a broker away must not hide the other figures
            logger.warning("Could not read the Celery queue depths")
            depths = {}
        for queue, count in depths.items():
            depth.add_metric([queue], count)
        return depth


def exposition() -> bytes:
    levels = CollectorRegistry()
    levels.register(LevelsCollector())
    if metrics.MULTIPROCESS_DIR:
        every_process = CollectorRegistry()
        MultiProcessCollector(every_process)
        return generate_latest(every_process) + generate_latest(levels)
    return generate_latest(REGISTRY) + generate_latest(levels)


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").strip(), token)
    allowed = settings.METRICS_ALLOWED_IPS
    return bool(allowed) and address_in(client_ip(request), allowed)


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return error_response(403, "permission_denied", "Not allowed to read the metrics.")
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
