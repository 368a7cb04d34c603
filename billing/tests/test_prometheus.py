"""``GET /metrics``: who may scrape it, and each series counted where it happens, read back
through Prometheus' own text parser. Counters are process-wide, so tests compare before and
after."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from assistants.tests.factories import AIAssistantFactory
from billing.tests.stand_ins import post_stripe, stripe_event, stripe_subscription
from conversations.models import ContactIdentity, Message
from conversations.tests.factories import ConversationFactory
from flame.testing import ROOT, wait_healthy
from integrations import delivery
from integrations.models import WebhookEvent
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests"


@pytest.fixture
def scraper(client, settings):
    settings.METRICS_TOKEN = TOKEN

    def scrape() -> dict[tuple[str, tuple], float]:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=")
        return _samples(response.content.decode())

    return scrape


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# --- who may scrape -------------------------------------------------------------------------------


def test_nobody_may_scrape_until_a_token_or_allow_list_is_set(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []

    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer ")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_wrong_token_is_refused(client, settings):
    settings.METRICS_TOKEN = TOKEN

    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 403
    assert client.get("/metrics").status_code == 403


def test_an_allowed_address_scrapes_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "127.0.0.1"]

    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 403


# --- the series -----------------------------------------------------------------------------------


def test_requests_are_timed_by_route(client, scraper):
    before = scraper()
    client.get("/health")
    client.get("/api/payments/plans")
    after = scraper()

    name = "flame_http_request_duration_seconds_count"
    for route in ("health", "payments-plans"):
        labels = {"route": route, "method": "GET", "status": "2xx"}
        assert _value(after, name, **labels) - _value(before, name, **labels) == 1
    assert (
        _value(
            after,
            "flame_http_request_duration_seconds_bucket",
            route="health",
            method="GET",
            status="2xx",
            le="+Inf",
        )
        >= 1
    )


def test_webhook_acknowledgements_by_outcome(provider_client, workspace, stripe_api, scraper):
    body = stripe_event(
        "customer.subscription.created",
        stripe_subscription(workspace_id=str(workspace.pk)),
        created=int(timezone.now().timestamp()),
        event_id="evt_m",
    )
    before = scraper()
    post_stripe(provider_client, body)
    post_stripe(provider_client, body)
    post_stripe(provider_client, body, "t=1,v1=00")
    after = scraper()

    for outcome in ("stored", "duplicate", "rejected"):
        labels = {"platform": "stripe", "outcome": outcome}
        delta = _value(after, "flame_webhook_acks_total", **labels) - _value(
            before, "flame_webhook_acks_total", **labels
        )
        assert delta == 1, outcome


def test_ingestion_lag_is_observed_when_an_event_is_processed(
    admin_client, workspace, scraper, django_capture_on_commit_callbacks
):
    sandbox = IntegrationFactory(workspace=workspace, platform="sandbox", external_account_id="s")
    before = scraper()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            f"/api/webhooks/sandbox/{sandbox.pk}", {"from": "c1", "text": "hola"}, format="json"
        )
    after = scraper()

    name = "flame_webhook_ingestion_lag_seconds_count"
    assert _value(after, name, platform="sandbox") - _value(before, name, platform="sandbox") == 1
    assert WebhookEvent.objects.get().status == "processed"


def test_ai_calls_tokens_and_cost(admin_client, workspace, scraper, openai_server):
    assistant = AIAssistantFactory(workspace=workspace)
    before = scraper()
    admin_client.post(f"/api/assistants/{assistant.pk}/test", {"message": "Hola"}, format="json")
    after = scraper()

    def delta(name, **labels):
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert delta("flame_ai_calls_total", provider="openai", purpose="playground", outcome="ok") == 1
    assert delta("flame_ai_tokens_total", provider="openai", kind="prompt") == 42
    assert delta("flame_ai_tokens_total", provider="openai", kind="completion") == 8
    # gpt-4o-mini: (42 x 0.15 + 8 x 0.60) / 1e6 USD, kept to the micro-dollar like AIUsage.
    assert delta("flame_ai_cost_usd_total", provider="openai") == pytest.approx(0.000011)


def test_delivery_failures_by_platform(workspace, scraper):
    sandbox = IntegrationFactory(workspace=workspace, platform="sandbox", external_account_id="s")
    conversation = ConversationFactory(workspace=workspace, integration=sandbox)
    ContactIdentity.objects.create(
        contact=conversation.contact,
        integration=sandbox,
        external_id="c1",
        metadata={"blocked": True},
    )
    message = Message.objects.create(
        conversation=conversation,
        workspace=workspace,
        integration=sandbox,
        sender="agent",
        content="¿Sigues ahí?",
        status="queued",
    )
    before = scraper()

    delivery.message_deliver(message_id=str(message.pk))

    after = scraper()
    name = "flame_delivery_failures_total"
    assert _value(after, name, platform="sandbox") - _value(before, name, platform="sandbox") == 1
    assert Message.objects.get(pk=message.pk).status == "failed"


def test_levels_read_at_scrape_time(scraper, agent_user, admin_user):
    now = timezone.now()
    for user, sockets in ((agent_user, 2), (admin_user, 1)):
        user.open_sockets, user.last_seen_at = sockets, now
        user.save()
    WebhookEvent.objects.create(platform="whatsapp", body=b"{}", body_sha256="a")
    WebhookEvent.objects.create(platform="whatsapp", body=b"{}", body_sha256="b", status="failed")

    samples = scraper()

    assert _value(samples, "flame_websockets_open") == 3
    assert _value(samples, "flame_webhook_events_waiting", platform="whatsapp") == 1


@pytest.mark.redis
def test_queue_depths_come_from_the_broker(scraper, settings):
    import redis

    settings.CELERY_BROKER_URL = settings.REDIS_URL
    settings.CELERY_TASK_ALWAYS_EAGER = False
    broker = redis.Redis.from_url(settings.REDIS_URL)
    broker.delete("ingest", "outbound")
    broker.lpush("ingest", "task-1", "task-2")
    try:
        samples = scraper()
    finally:
        broker.delete("ingest")

    assert _value(samples, "flame_queue_depth", queue="ingest") == 2
    assert _value(samples, "flame_queue_depth", queue="outbound") == 0


# --- several processes ----------------------------------------------------------------------------


def _scrape_over_http(url: str) -> dict[tuple[str, tuple], float]:
    request = urllib.request.Request(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    return _samples(urllib.request.urlopen(request, timeout=5).read().decode())


HEALTH_COUNT = (
    "flame_http_request_duration_seconds_count",
    {"route": "health", "method": "GET", "status": "2xx"},
)


def _settled(url: str) -> dict[tuple[str, tuple], float]:
    """A scrape once no health probe is on its way: one the client gave up on while the
    workers were starting still sits in the listen backlog, and is counted when answered."""
    name, labels = HEALTH_COUNT
    samples = _scrape_over_http(url)
    for _ in range(20):
        time.sleep(0.5)
        again = _scrape_over_http(url)
        if _value(again, name, **labels) == _value(samples, name, **labels):
            return again
        samples = again
    return samples


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_gunicorn_workers_are_added_up(tmp_path):
    """Two gunicorn workers answer at once; one scrape reports what both counted."""
    database = connection.settings_dict
    url = f"http://127.0.0.1:{_free_port()}"
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    environment = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        ),
        "DATABASE_CONN_MAX_AGE": "0",
        "LOG_TO_FILES": "0",
        "LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "METRICS_TOKEN": TOKEN,
    }
    bind = url.removeprefix("http://")
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "flame.wsgi:application",
        "--bind",
        bind,
        "--workers",
        "2",
        "--worker-class",
        "sync",
    ]
    server = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_healthy(server, url)
        before = _settled(url)
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(
                pool.map(
                    lambda _: urllib.request.urlopen(f"{url}/health", timeout=10).read(), range(40)
                )
            )
        after = _scrape_over_http(url)
    finally:
        server.terminate()
        server.wait(timeout=10)

    name, labels = HEALTH_COUNT
    assert _value(after, name, **labels) - _value(before, name, **labels) == 40
    writers = {path.stem.split("_", 1)[1] for path in metrics_dir.glob("histogram_*.db")}
    assert len(writers) == 2, writers  # both workers counted, and one scrape added them up


def test_the_grafana_dashboard_charts_every_series(client, settings, workspace):
    settings.METRICS_TOKEN = TOKEN
    text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    ours = {family.name for family in text_string_to_metric_families(text)}
    ours = {name for name in ours if name.startswith("flame_")}
    dashboard = json.loads((ROOT / "deploy" / "grafana-dashboard.json").read_text())
    queries = " ".join(
        target["expr"] for panel in dashboard["panels"] for target in panel["targets"]
    )

    assert ours == {
        "flame_http_request_duration_seconds",
        "flame_webhook_acks",
        "flame_webhook_ingestion_lag_seconds",
        "flame_ingest_overdue_asks",
        "flame_webhook_events_waiting",
        "flame_queue_depth",
        "flame_websockets_open",
        "flame_ai_calls",
        "flame_ai_tokens",
        "flame_ai_cost_usd",
        "flame_delivery_failures",
    }
    assert sorted(name for name in ours if name not in queries) == []
