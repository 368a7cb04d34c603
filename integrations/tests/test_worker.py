"""End to end with a real Celery worker on the Redis broker and PostgreSQL.

The webhook view stores the event and enqueues ``ingest``; a separate worker process claims and
processes it; an agent reply goes through ``outbound``. Tasks sent twice change nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from conversations.models import Message
from flame.celery import app as celery_app
from integrations import ingest
from integrations.models import WebhookEvent
from integrations.tasks import ingest_webhook_event_task
from integrations.tests.factories import IntegrationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def _start_worker(**env: str) -> subprocess.Popen:
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DATABASE_CONN_MAX_AGE": "0",
        "LOG_TO_FILES": "0",
        "LOG_LEVEL": "WARNING",
        "AUTO_REPLY_QUIET_SECONDS": "0.5",
        "AI_ANALYSIS_DEBOUNCE_SECONDS": "0.5",
        **env,
    }
    celery_app.control.purge()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "flame",
            "worker",
            "-Q",
            "ingest,outbound,ai,default",
            "-P",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    celery_app.conf.task_always_eager = False
    return process


def _stop_worker(process: subprocess.Popen) -> None:
    celery_app.conf.task_always_eager = True
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture
def worker():
    process = _start_worker()
    yield process
    _stop_worker(process)


@pytest.fixture
def worker_keeping_connections():
    """A worker as deployed: database connections kept for a minute (CONN_MAX_AGE)."""
    process = _start_worker(DATABASE_CONN_MAX_AGE="60")
    yield process
    _stop_worker(process)


def _wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail("the worker did not get there in time")


def _sandbox_customer(client, workspace, account_id: str):
    """A sandbox channel, and a function that posts to it as a customer (sender, text)."""
    sandbox = IntegrationFactory(
        workspace=workspace, platform="sandbox", external_account_id=account_id
    )

    def post(sender: str, text: str) -> None:
        client.post(
            f"/api/webhooks/sandbox/{sandbox.pk}", {"from": sender, "text": text}, format="json"
        )

    return post


def test_webhook_to_inbox_and_reply_through_a_real_worker(admin_client, workspace, worker):
    sandbox = IntegrationFactory(
        workspace=workspace, platform="sandbox", external_account_id="sb-w"
    )

    response = admin_client.post(
        f"/api/webhooks/sandbox/{sandbox.pk}",
        {"from": "+5215511", "name": "Ana", "text": "¿Hay envíos?"},
        format="json",
    )

    assert response.status_code == 202
    message = _wait_for(lambda: Message.objects.filter(content="¿Hay envíos?").first())
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == ("processed", 1)

    reply = admin_client.post(
        f"/api/conversations/{message.conversation_id}/messages",
        {"content": "Sí, a todo el país"},
        format="json",
    )
    assert reply.json()["status"] == "queued"
    _wait_for(lambda: Message.objects.filter(pk=reply.json()["id"], status="sent").exists())

    # The broker may deliver a task twice: a duplicate changes nothing.
    ingest_webhook_event_task.delay(event.pk)
    ingest_webhook_event_task.delay(event.pk)
    time.sleep(2)
    assert Message.objects.filter(sender="user").count() == 1
    event.refresh_from_db()
    assert event.attempts == 1


def test_auto_reply_through_a_real_worker(admin_client, workspace, worker, settings):
    from assistants.tests.factories import AssistantFactory

    settings.AUTO_REPLY_QUIET_SECONDS = 0.5
    assistant = AssistantFactory(
        workspace=workspace, type="auto", auto_response="Gracias, te respondemos enseguida."
    )
    sandbox = IntegrationFactory(
        workspace=workspace,
        platform="sandbox",
        external_account_id="sb-ar",
        default_assistant=assistant,
    )

    for text in ("Hola", "¿Siguen abiertos?"):
        admin_client.post(
            f"/api/webhooks/sandbox/{sandbox.pk}", {"from": "+5215522", "text": text}, format="json"
        )

    reply = _wait_for(
        lambda: Message.objects.filter(sender="assistant", status="sent").first(), timeout=45
    )
    time.sleep(2)  # a second reply, if the burst were not debounced, would have landed by now
    assert reply.content == "Gracias, te respondemos enseguida."
    assert Message.objects.filter(sender="assistant").count() == 1


def test_analyses_through_a_real_worker(admin_client, workspace, worker, settings):
    """Two customers write, one of them twice: one bulk run analyses both conversations, and
    the message that came later is part of a second analysis of its conversation."""
    from assistants.models import AIUsage, ConversationAnalysis
    from conversations.models import Conversation

    settings.AI_ANALYSIS_DEBOUNCE_SECONDS = 0.5
    write = _sandbox_customer(admin_client, workspace, "sb-an")

    write("+5215533", "URGENTE: mi pedido llegó roto")
    write("+5215544", "¿Hacen envíos a Monterrey?")
    _wait_for(lambda: Conversation.objects.filter(ai_analyzed_at__isnull=False).count() == 2)
    write("+5215544", "Quiero un reembolso")

    _wait_for(lambda: Conversation.objects.filter(ai_tags__contains="refund").exists())
    assert Conversation.objects.get(contact__phone="+5215533").ai_priority == "urgent"
    assert AIUsage.objects.filter(purpose="analysis").count() == 3
    time.sleep(1.5)  # nothing further is owed, so nothing further runs
    assert AIUsage.objects.filter(purpose="analysis").count() == 3
    assert not ConversationAnalysis.objects.filter(due_at__isnull=False).exists()


def _other_backends() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return {row[0] for row in cursor.fetchall()}


def test_a_worker_keeps_its_database_connection_from_task_to_task(
    admin_client, workspace, worker_keeping_connections
):
    # given: a worker that has processed one webhook
    sandbox = IntegrationFactory(
        workspace=workspace, platform="sandbox", external_account_id="sb-conn"
    )

    def write(text: str) -> None:
        admin_client.post(
            f"/api/webhooks/sandbox/{sandbox.pk}", {"from": "+5215566", "text": text}, format="json"
        )
        _wait_for(lambda: Message.objects.filter(content=text).exists())

    write("primero")
    _wait_for(lambda: len(_other_backends()) == 1)
    first = _other_backends()

    # when: it processes four more, each in a task of its own
    for n in range(4):
        write(f"otro {n}")
        _wait_for(lambda: not WebhookEvent.objects.exclude(status="processed").exists())

    # then: every task ran on the same PostgreSQL backend (Celery's Django fix-up closed it
    # after each task, and the next one connected again)
    time.sleep(0.5)
    assert _other_backends() == first


def test_a_burst_lingers_into_a_few_batches(admin_client, workspace, worker, monkeypatch):
    # given: a worker that is up, and a web process about to see webhooks faster than the
    # linger threshold
    post = _sandbox_customer(admin_client, workspace, "sb-linger")
    post("+5215500", "hola")
    _wait_for(lambda: Message.objects.filter(content="hola").exists())
    monkeypatch.setattr(ingest, "_arrivals", ingest.ArrivalRate())
    monkeypatch.setattr(ingest, "INGEST_LINGER_FROM_RATE", 5.0)
    monkeypatch.setattr(ingest, "INGEST_LINGER_SECONDS", 1.0)

    # when: thirty messages arrive over about a second, each while the worker is idle
    for n in range(30):
        post(f"+52155{n % 4}", f"ráfaga {n}")
        time.sleep(0.03)
    _wait_for(lambda: Message.objects.filter(content__startswith="ráfaga").count() == 30)

    # then: the first went alone (no rate yet), the rest waited for the worker in a few
    # batches (at once, each would have been a task of its own); each stored and processed once
    burst = WebhookEvent.objects.exclude(
        claim_token=WebhookEvent.objects.earliest("id").claim_token
    )
    assert burst.filter(status="processed", attempts=1).count() == 30
    assert burst.order_by().values("claim_token").distinct().count() <= 4
    assert Message.objects.filter(sender="user").count() == 31


def _customers_write(channel, word: str, count: int, pause: float = 0.0) -> None:
    """``count`` webhooks stored as the web does, from five customers, ``pause`` apart."""
    for n in range(count):
        ingest.sandbox_message_store(
            integration=channel,
            sender=f"+52156{n % 5}",
            name="",
            text=f"{word} {n}",
            message_id=f"{word}-{n}",
        )
        time.sleep(pause)


def test_a_burst_asks_redis_a_few_times_not_once_per_webhook(workspace, worker, monkeypatch):
    # given: a web process storing webhooks faster than the linger threshold, and the real
    # question to Redis ("is a drain task on its way?") counted
    channel = IntegrationFactory(
        workspace=workspace, platform="sandbox", external_account_id="sb-asks"
    )
    monkeypatch.setattr(ingest, "_arrivals", ingest.ArrivalRate())
    asked = []
    real = ingest._trigger_taken
    monkeypatch.setattr(ingest, "_trigger_taken", lambda: asked.append(1) or real())

    # when: a hundred messages are stored as fast as this process can
    _customers_write(channel, "seguidos", 100)
    _wait_for(lambda: Message.objects.filter(content__startswith="seguidos").count() == 100)

    # then: every one stored and processed once, for a fraction of the asks
    assert WebhookEvent.objects.filter(status="processed", attempts=1).count() == 100
    assert len(asked) < 25, len(asked)


def test_webhooks_do_not_wait_for_a_drain_task_that_never_starts(workspace, worker, monkeypatch):
    # given: a drain task marked as on its way that never starts (the pool process it was
    # handed to being replaced, a worker killed with it reserved), and a web process storing
    # webhooks fast enough to linger
    channel = IntegrationFactory(
        workspace=workspace, platform="sandbox", external_account_id="sb-held"
    )
    monkeypatch.setattr(ingest, "_arrivals", ingest.ArrivalRate())
    monkeypatch.setattr(
        ingest, "_pending", ingest.PendingWatch(ingest.INGEST_TRIGGER_OVERDUE_SECONDS)
    )
    ingest.ingest_trigger_clear()
    assert ingest._trigger_taken()  # the mark the held task left (it lasts INGEST_TRIGGER_TTL)
    started = time.monotonic()

    # when: customers keep writing for two seconds
    _customers_write(channel, "retenido", 40, pause=0.05)

    # then: all of them reach the inbox within seconds, not when the mark expires (30 s)
    _wait_for(lambda: Message.objects.filter(content__startswith="retenido").count() == 40, 8.0)
    assert time.monotonic() - started < 8.0
    assert WebhookEvent.objects.filter(status="processed", attempts=1).count() == 40
