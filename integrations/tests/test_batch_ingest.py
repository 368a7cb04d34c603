"""The set-based ingestion path used by workers on PostgreSQL (batches of claimed events)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import psycopg
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations.models import Contact, Conversation, Event, Message
from conversations.services import InboundMessage
from flame import backpressure
from integrations import ingest
from integrations.inbound import customer_message_receive, customer_messages_receive
from integrations.models import WebhookEvent
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db


def _inbound(n: int, contact: str, **extra) -> InboundMessage:
    return InboundMessage(
        external_contact_id=contact, external_id=f"m-{n}", content=f"texto {n}", **extra
    )


def test_bulk_matches_the_single_message_path(workspace):
    channel = IntegrationFactory(workspace=workspace, platform="whatsapp")
    customer_message_receive(integration=channel, inbound=_inbound(0, "ana"))
    batch = [
        _inbound(1, "ana"),
        _inbound(2, "ana"),
        _inbound(2, "ana"),
        _inbound(3, "beto"),
        _inbound(0, "ana"),
    ]

    created = customer_messages_receive(integration=channel, inbounds=batch)
    again = customer_messages_receive(integration=channel, inbounds=batch)

    assert sorted(m.external_id for m in created) == ["m-1", "m-2", "m-3"]
    assert again == []
    assert Message.objects.count() == 4
    assert Contact.objects.count() == 2
    ana = Conversation.objects.get(contact__identities__external_id="ana")
    assert (ana.message_count, ana.unread_count, ana.last_message) == (3, 3, "texto 2")
    assert Conversation.objects.get(contact__identities__external_id="beto").unread_count == 1
    assert Event.objects.filter(kind="message:new").count() == 4


def test_bulk_links_replies_inside_and_outside_the_batch(workspace):
    channel = IntegrationFactory(workspace=workspace, platform="whatsapp")
    customer_message_receive(integration=channel, inbound=_inbound(0, "ana"))

    customer_messages_receive(
        integration=channel, inbounds=[_inbound(1, "ana", reply_to_external_id="m-0")]
    )

    assert Message.objects.get(external_id="m-1").reply_to.external_id == "m-0"


def _sandbox_event(channel, n: int, sender: str) -> WebhookEvent:
    body = json.dumps({"id": f"e{n}", "from": sender, "text": f"hola {n}"}).encode()
    return WebhookEvent.objects.create(
        platform="sandbox",
        integration=channel,
        workspace=channel.workspace,
        verified_integration_ids=[str(channel.pk)],
        body=body,
        body_sha256=f"sha-{n}",
    )


@pytest.mark.postgres
def test_a_claimed_batch_is_processed_set_based_and_exactly_once(workspace, monkeypatch):
    channel = IntegrationFactory(
        workspace=workspace, platform="sandbox", external_account_id="sb-batch"
    )
    events = [_sandbox_event(channel, n, f"c{n % 3}") for n in range(12)]
    WebhookEvent.objects.filter(pk=events[5].pk).update(body=b"{broken")
    monkeypatch.setattr(ingest, "_batching", lambda: True)
    monkeypatch.setattr(ingest, "_continue_draining", lambda event_id: None)

    statuses = ingest.webhook_events_process(event_id=events[0].pk)
    repeat = ingest.webhook_events_process(event_id=events[0].pk)

    assert sorted(statuses.values()) == ["failed"] + ["processed"] * 11
    assert repeat == {}
    assert Message.objects.count() == 11
    assert Conversation.objects.count() == 3
    assert sum(Conversation.objects.values_list("unread_count", flat=True)) == 11
    assert WebhookEvent.objects.get(pk=events[5].pk).error.startswith("Malformed body")
    finished = WebhookEvent.objects.filter(status="processed")
    assert sorted(finished.values_list("items_count", flat=True)) == [1] * 11


def _store_twice(channel) -> tuple:
    body = b'{"object": "whatsapp_business_account", "entry": []}'
    first = ingest.webhook_event_store(
        platform="whatsapp", body=body, headers={}, integrations=[channel]
    )
    again = ingest.webhook_event_store(
        platform="whatsapp", body=body, headers={}, integrations=[channel]
    )
    return first, again


@pytest.mark.django_db(transaction=True)
def test_a_webhook_is_stored_once_in_autocommit_as_the_view_runs(workspace, monkeypatch):
    """The view's INSERT is its own transaction; a body sent again is recognised, not an error."""
    monkeypatch.setattr(ingest, "_trigger_ingest", lambda event_id: None)
    channel = IntegrationFactory(workspace=workspace, platform="whatsapp")

    assert not connection.in_atomic_block
    first, again = _store_twice(channel)

    assert first is not None
    assert again is None
    assert WebhookEvent.objects.count() == 1


def test_a_resent_body_inside_a_callers_transaction_leaves_it_usable(workspace, monkeypatch):
    monkeypatch.setattr(ingest, "_trigger_ingest", lambda event_id: None)
    channel = IntegrationFactory(workspace=workspace, platform="whatsapp")

    first, again = _store_twice(channel)

    assert first is not None
    assert again is None
    assert WebhookEvent.objects.count() == 1  # the transaction still answers


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_claim_is_one_statement_that_skips_locked_deferred_and_claimed_events(
    workspace, monkeypatch
):
    # given: six pending events; another worker holds two of them locked, one waits for a
    # retry time still to come, and one was claimed already
    channel = IntegrationFactory(workspace=workspace, platform="sandbox")
    events = [_sandbox_event(channel, n, f"c{n}") for n in range(6)]
    later = timezone.now() + timedelta(minutes=5)
    WebhookEvent.objects.filter(pk=events[3].pk).update(not_before=later)
    WebhookEvent.objects.filter(pk=events[4].pk).update(status="processing")
    monkeypatch.setattr(ingest, "INGEST_BATCH_SIZE", 3)
    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"], dbname=settings["NAME"]
    )
    try:
        locked = [events[1].pk, events[2].pk]
        other.execute(
            "SELECT id FROM integrations_webhookevent WHERE id = ANY(%s) FOR UPDATE", [locked]
        )

        # when: a worker claims for events[0], another for the deferred events[3]; then the
        # lock is released and a third claims
        with CaptureQueriesContext(connection) as captured:
            first = ingest._claim_batch(events[0].pk)
        deferred = ingest._claim_batch(events[3].pk)
    finally:
        other.close()
    released = ingest._claim_batch(events[1].pk)

    # then: one statement; the locked, deferred and claimed rows are left to their owners, an
    # event is still claimed by the task triggered for it (even deferred), and a released lock
    # makes its rows claimable
    assert len(captured) == 1
    assert [event.pk for event in first] == [events[0].pk, events[5].pk]
    assert {event.status for event in first} == {"processing"}
    assert first[0].claim_token == first[1].claim_token is not None
    assert first[0].attempts == 1
    assert first[0].lease_expires_at - first[0].processing_started_at == ingest.CLAIM_LEASE
    assert bytes(first[0].body) == bytes(events[0].body)
    assert [event.pk for event in deferred] == [events[3].pk]
    assert [event.pk for event in released] == [events[1].pk, events[2].pk]
    assert ingest._claim_batch(events[0].pk) == []


@pytest.mark.postgres
@pytest.mark.parametrize(("pending", "busy"), [(ingest.BACKLOG_EVENTS, True), (3, False)])
def test_a_batch_that_finds_a_backlog_marks_ingestion_busy(workspace, monkeypatch, pending, busy):
    channel = IntegrationFactory(workspace=workspace, platform="sandbox")
    events = [_sandbox_event(channel, n, f"c{n}") for n in range(pending)]
    monkeypatch.setattr(ingest, "_continue_draining", lambda event_id: None)
    cache.delete(backpressure.INGESTION_BUSY_KEY)

    statuses = ingest.webhook_events_process(event_id=events[0].pk)

    assert list(statuses.values()) == ["processed"] * pending
    assert backpressure.ingestion_busy() is busy
    cache.delete(backpressure.INGESTION_BUSY_KEY)


def _claim_plan(event_id: int) -> dict:
    """The claim statement's plan, run for real (EXPLAIN ANALYZE, with the pages it read)."""
    params = ingest._claim_params(event_id, uuid.uuid4(), timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + ingest._claim_sql(), params)
        plan = cursor.fetchone()[0]
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def _pages_read(node: dict) -> int:
    """Pages the plan's scans read (the UPDATE's own writes aside)."""
    own = node["Shared Hit Blocks"] + node["Shared Read Blocks"] if "Index Name" in node else 0
    return own + sum(_pages_read(child) for child in node.get("Plans", []))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("analyzed", ["before the burst", "after the burst"])
def test_a_claim_reads_only_the_pending_events_it_takes(workspace, monkeypatch, analyzed):
    # given: 20,000 events received and then processed, as a burst leaves them (no vacuum
    # since; statistics from before or after it), one claim made since, and 2,000 pending
    channel = IntegrationFactory(workspace=workspace, platform="sandbox")
    WebhookEvent.objects.bulk_create(
        WebhookEvent(platform="sandbox", integration=channel, body=b"{}", body_sha256=f"old-{n}")
        for n in range(20_000)
    )
    if analyzed == "before the burst":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE integrations_webhookevent")
    WebhookEvent.objects.update(status="processed")
    if analyzed == "after the burst":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE integrations_webhookevent")
    ingest._claim_batch(_sandbox_event(channel, 0, "c0").pk)
    WebhookEvent.objects.bulk_create(
        WebhookEvent(platform="sandbox", integration=channel, body=b"{}", body_sha256=f"new-{n}")
        for n in range(2_000)
    )
    first = WebhookEvent.objects.filter(status="received").order_by("id").first()
    monkeypatch.setattr(ingest, "INGEST_BATCH_SIZE", 10)

    # when: a worker claims for the first pending one
    plan = _claim_plan(first.pk)

    # then: the rows are found by key, the ten to take through the index of pending events,
    # and the claim reads a fraction of the pages the table has (it read all of them before)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_size('integrations_webhookevent') / 8192")
        table_pages = cursor.fetchone()[0]
    rows = plan["Plans"][-1]
    assert (rows["Index Name"], rows["Actual Rows"]) == ("integrations_webhookevent_pkey", 10)
    assert _pages_read(plan) < table_pages / 3, (table_pages, plan)


def test_the_arrival_rate_follows_a_burst_and_its_end():
    rate = ingest.ArrivalRate()
    assert rate.arrived(100.0) == 0.0  # one arrival is no rate yet

    during = [rate.arrived(100.0 + n / 200) for n in range(1, 120)]
    after_pause = rate.arrived(100.0 + 119 / 200 + 3600)  # an idle hour counts as a second

    assert during[0] == pytest.approx(200.0)
    assert during[-1] == pytest.approx(200.0)
    assert ingest.ingest_linger(during[-1]) == ingest.INGEST_LINGER_SECONDS
    assert after_pause < ingest.INGEST_LINGER_FROM_RATE
    assert ingest.ingest_linger(after_pause) is None
