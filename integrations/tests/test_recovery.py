"""What ingestion does when its parts fail: a dead worker's claim moves on within a minute,
Redis is not needed to accept a webhook, and a database that is away means 503, never 500."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from conversations.models import Message
from integrations import ingest
from integrations.models import WebhookEvent
from integrations.tests.test_whatsapp import payload, post_signed, whatsapp_integration

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def whatsapp(workspace, settings):
    settings.META_APP_SECRET = ""
    return whatsapp_integration(workspace)


def _stored_event() -> WebhookEvent:
    return WebhookEvent.objects.create(
        platform="whatsapp", body=payload("text"), body_sha256="x" * 64
    )


def test_a_dead_workers_claim_is_taken_over_once_its_lease_runs_out(whatsapp):
    # given: a worker claimed the event and died (nobody renews the lease)
    event = _stored_event()
    claimed = ingest._claim_batch(event.pk)
    assert [e.pk for e in claimed] == [event.pk]
    claimed_event = WebhookEvent.objects.get(pk=event.pk)
    lease = claimed_event.lease_expires_at - claimed_event.processing_started_at
    assert lease == ingest.CLAIM_LEASE <= timedelta(seconds=30)

    # when: the sweeper runs before and after the lease ran out
    early = ingest.webhook_events_sweep(older_than=timedelta(0))
    WebhookEvent.objects.filter(pk=event.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    late = ingest.webhook_events_sweep(older_than=timedelta(0))

    # then: untouched while leased; afterwards another worker processes it (tasks run inline)
    assert early == 0
    assert late == 1
    assert WebhookEvent.objects.get(pk=event.pk).status == WebhookEvent.Status.IGNORED


def test_a_working_claim_keeps_renewing_its_lease(whatsapp, monkeypatch):
    monkeypatch.setattr(ingest, "LEASE_RENEW_SECONDS", 0.2)
    event = _stored_event()
    claimed = ingest._claim_batch(event.pk)
    first = WebhookEvent.objects.get(pk=event.pk).lease_expires_at

    with ingest._lease_kept(claimed):
        time.sleep(0.7)  # a long batch: the renewer runs meanwhile, on its own connection

    renewed = WebhookEvent.objects.get(pk=event.pk).lease_expires_at
    assert renewed > first
    assert ingest.webhook_events_sweep(older_than=timedelta(0)) == 0


def test_a_claim_the_database_dropped_goes_back_with_the_tasks_retry(whatsapp, monkeypatch):
    # given: the database goes away while a batch is claimed, and stays away for the release
    from integrations.tasks import ingest_webhook_event_task

    event = _stored_event()
    port = connection.settings_dict["PORT"]

    def database_gone(events, wait_for_unmatched):
        connection.close()
        connection.settings_dict["PORT"] = "1"
        connection.ensure_connection()  # raises, as every query would now

    monkeypatch.setattr(ingest, "_process_events", database_gone)
    try:
        with pytest.raises(ingest.ClaimHeldError) as failure:
            ingest.webhook_events_process(event_id=event.pk)
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
    monkeypatch.undo()
    held = WebhookEvent.objects.get(pk=event.pk)
    assert held.status == WebhookEvent.Status.PROCESSING
    assert failure.value.claim_token == str(held.claim_token)

    # when: the task's retry runs (inline here) with the claim it was handed
    ingest_webhook_event_task.apply(args=(event.pk,), kwargs={"held_claim": str(held.claim_token)})

    # then: released and processed at once, not after the lease and the sweeper
    assert WebhookEvent.objects.get(pk=event.pk).status == WebhookEvent.Status.IGNORED


def test_with_redis_away_a_webhook_is_stored_answered_and_processed_later(
    client, whatsapp, settings
):
    # given: the cache (and the trigger behind it) cannot reach Redis
    settings.CACHES = {
        "default": {
            "BACKEND": "flame.cache.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }

    # when
    response = post_signed(client, payload("text"))

    # then: acknowledged and stored, not processed yet
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.RECEIVED
    assert Message.objects.count() == 0

    # when Redis is back, the sweeper enqueues it
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert ingest.webhook_events_sweep(older_than=timedelta(0)) == 1
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
    assert Message.objects.count() == 1


@pytest.fixture
def database_away():
    """The real PostgreSQL connection pointed at a port nobody listens on, then back."""
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"
    yield
    connection.close()
    connection.settings_dict["PORT"] = port


def test_with_the_database_away_a_webhook_gets_503_not_500(client, whatsapp, database_away):
    response = post_signed(client, payload("text"))

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert response["Retry-After"] == "5"


def test_with_the_database_away_the_api_says_503(admin_client, database_away):
    response = admin_client.get("/api/conversations")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
