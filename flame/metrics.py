"""Prometheus metrics (``prometheus-client``): defined here, counted where things happen.

Every process counts in its own memory, or — with ``PROMETHEUS_MULTIPROC_DIR`` set, as under
gunicorn's several workers, Celery's pool and daphne — in files in that directory, which
``/metrics`` adds up across processes (``prometheus_client.multiprocess``). The directory must
be empty when the stack starts and shared by every process of a host (docker-compose mounts one
volume in each container and empties it before they start). Files are named after the host
and the process id, so two containers whose processes share a pid never share a file.

Only counters and histograms are kept this way; what is a level at a moment (open sockets,
queue depths) is read when ``/metrics`` is scraped (``billing.monitoring``).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram, disable_created_metrics, values

# The *_created series add nothing a dashboard reads (and multiprocess mode has none).
disable_created_metrics()

MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if MULTIPROCESS_DIR:
    # Before any metric exists: its value class decides where it is stored.
    _HOST = socket.gethostname()
    values.ValueClass = values.MultiProcessValue(lambda: f"{_HOST}_{os.getpid()}")

HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

HTTP_REQUEST_SECONDS = Histogram(
    "flame_http_request_duration_seconds",
    "Time to answer an HTTP request, by route (the URL pattern's name), method and status class.",
    ["route", "method", "status"],
)
WEBHOOK_ACKS = Counter(
    "flame_webhook_acks",
    "Webhook deliveries answered, by platform and outcome (stored, duplicate, rejected, "
    "unavailable).",
    ["platform", "outcome"],
)
WEBHOOK_INGESTION_LAG_SECONDS = Histogram(
    "flame_webhook_ingestion_lag_seconds",
    "From a webhook's receipt to the end of its processing, by platform.",
    ["platform"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, float("inf")),
)
INGEST_OVERDUE_ASKS = Counter(
    "flame_ingest_overdue_asks",
    "Extra ingestion tasks asked for because the pending one had not started within "
    "INGEST_TRIGGER_OVERDUE_SECONDS (a pool process being replaced, a worker killed with it).",
)
AI_CALLS = Counter(
    "flame_ai_calls",
    "LLM calls, by provider, purpose and outcome.",
    ["provider", "purpose", "outcome"],
)
AI_TOKENS = Counter(
    "flame_ai_tokens",
    "LLM tokens, by provider and kind (prompt, completion).",
    ["provider", "kind"],
)
AI_COST_USD = Counter("flame_ai_cost_usd", "LLM cost in US dollars, by provider.", ["provider"])
DELIVERY_FAILURES = Counter(
    "flame_delivery_failures",
    "Outbound messages that could not be delivered, by platform.",
    ["platform"],
)


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"  # 404s and what middleware answered (static files, refusals)
    return match.view_name or match.route or "unnamed"


class RequestTimingMiddleware:
    """Times every request by its route's name, a label of bounded cardinality (never the
    path, which holds ids)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in HTTP_METHODS else "other"
        HTTP_REQUEST_SECONDS.labels(
            route=_route(request), method=method, status=f"{response.status_code // 100}xx"
        ).observe(time.perf_counter() - started)
        return response


def webhook_answered(platform: str, outcome: str) -> None:
    WEBHOOK_ACKS.labels(platform=platform, outcome=outcome).inc()


def ai_call_recorded(
    *, provider: str, purpose: str, succeeded: bool, prompt: int, completion: int, cost
) -> None:
    outcome = "ok" if succeeded else "error"
    AI_CALLS.labels(provider=provider, purpose=purpose, outcome=outcome).inc()
    if prompt:
        AI_TOKENS.labels(provider=provider, kind="prompt").inc(prompt)
    if completion:
        AI_TOKENS.labels(provider=provider, kind="completion").inc(completion)
    if cost:
        AI_COST_USD.labels(provider=provider).inc(float(cost))
