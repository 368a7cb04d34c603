"""A batch of customer messages moves its conversations' counters and announces each message
with the conversation as the update left it, without reading the conversations a second time."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from assistants.tests.factories import AssistantFactory
from conversations.models import Conversation, Event
from conversations.serializers import conversation_data
from conversations.services import InboundMessage, messages_receive_inbound
from conversations.services.events import reloaded
from conversations.tests.factories import TagFactory
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(workspace):
    return IntegrationFactory(workspace=workspace, platform="whatsapp")


@pytest.fixture
def returning(channel, workspace):
    """Two customers who wrote before: one conversation with an agent, an assistant and a tag,
    one with none of them."""
    first = messages_receive_inbound(
        integration=channel,
        inbounds=[
            InboundMessage(external_contact_id=who, external_id=f"before-{who}", content="Hola")
            for who in ("5215500000001", "5215500000002")
        ],
    )
    busy, quiet = (first.conversations[m.conversation_id] for m in first.messages)
    Conversation.objects.filter(pk=busy.pk).update(
        assigned_agent=UserFactory(workspace=workspace, role="agent"),
        assigned_assistant=AssistantFactory(workspace=workspace),
    )
    # added out of Tag's order (by name), which the payloads keep as the API does
    busy.tags.add(TagFactory(workspace=workspace, name="vip"))
    busy.tags.add(TagFactory(workspace=workspace, name="alpha"))
    return reloaded(busy), quiet


def _second_batch(channel):
    return messages_receive_inbound(
        integration=channel,
        inbounds=[
            InboundMessage(external_contact_id="5215500000001", external_id="a", content="uno"),
            InboundMessage(external_contact_id="5215500000002", external_id="b", content="dos"),
            InboundMessage(external_contact_id="5215500000001", external_id="c", content="tres"),
        ],
    )


def test_each_message_is_announced_with_its_conversation_as_it_is_now(channel, returning):
    busy, quiet = returning

    batch = _second_batch(channel)

    # then: the counters moved once per message, the newest message is the preview, and every
    # message:new carries exactly what the API would return for the conversation now
    busy_now, quiet_now = reloaded(busy), reloaded(quiet)
    assert (busy_now.message_count, busy_now.unread_count) == (3, 3)
    assert (quiet_now.message_count, quiet_now.unread_count) == (2, 2)
    assert busy_now.last_message == "tres"
    events = Event.objects.filter(kind="message:new").order_by("id")
    payloads = [event.payload for event in events][-3:]
    expected = {busy.pk: conversation_data(busy_now), quiet.pk: conversation_data(quiet_now)}
    assert [p["message"]["content"] for p in payloads] == ["uno", "dos", "tres"]
    for payload, message in zip(payloads, batch.messages, strict=True):
        assert payload["conversation"] == expected[message.conversation_id]
    assert expected[busy.pk]["assigned_agent"]["id"] == str(busy.assigned_agent_id)
    assert expected[busy.pk]["assigned_assistant"]["id"] == str(busy.assigned_assistant_id)
    assert [tag["name"] for tag in expected[busy.pk]["tags"]] == ["alpha", "vip"]
    # and what happens next (assistants, analysis) gets the same conversations, with everything
    # the payload reads already loaded
    with CaptureQueriesContext(connection) as serializing:
        assert {pk: conversation_data(c) for pk, c in batch.conversations.items()} == expected
    assert serializing.captured_queries == []


def test_a_batch_reads_its_conversations_once(channel, returning):
    with CaptureQueriesContext(connection) as captured:
        _second_batch(channel)

    statements = [query["sql"].strip() for query in captured.captured_queries]
    conversations = [
        sql
        for sql in statements
        if sql.startswith("SELECT") and 'FROM "conversations_conversation"' in sql
    ]
    updates = [sql for sql in statements if sql.startswith('UPDATE "conversations_conversation"')]
    if connection.vendor == "postgresql":
        # the open conversations are found once; the counter update returns the rows
        assert len(conversations) == 1
        assert len(updates) == 1
        assert "RETURNING" in updates[0]
    else:
        # SQLite: one UPDATE per conversation (executemany), then the rows read back plainly
        assert len(conversations) == 2
        assert not any("JOIN" in sql for sql in conversations)
