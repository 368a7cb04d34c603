"""The set-based ingestion path used by workers on PostgreSQL (batches of claimed events)."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from conversations.models import Contact, Conversation, Event, Message
from conversations.services import InboundMessage
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
