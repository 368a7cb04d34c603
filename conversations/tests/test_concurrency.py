"""Exactly-once ingestion with real concurrent transactions (PostgreSQL row locks)."""

from __future__ import annotations

import pytest

from conversations import services
from conversations.models import Contact, ContactIdentity, Conversation, Message
from conversations.services import InboundMessage
from flame.testing import race
from integrations.tests.factories import IntegrationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_same_message_from_many_workers_is_stored_once(workspace):
    channel = IntegrationFactory(workspace=workspace, platform="whatsapp")
    inbound = InboundMessage(
        external_contact_id="5215500000001", external_id="wamid.same", content="Hola"
    )

    results = race(
        lambda n: services.message_receive_inbound(integration=channel, inbound=inbound), 6
    )

    assert sorted(r.created for r in results) == [False] * 5 + [True]
    assert Message.objects.count() == 1
    assert (
        Contact.objects.count(),
        ContactIdentity.objects.count(),
        Conversation.objects.count(),
    ) == (1, 1, 1)
    assert Conversation.objects.get().unread_count == 1


def test_first_messages_of_a_new_customer_open_one_conversation(workspace):
    channel = IntegrationFactory(workspace=workspace, platform="telegram")

    def receive(n):
        inbound = InboundMessage(external_contact_id="777", external_id=f"msg-{n}", content=f"m{n}")
        return services.message_receive_inbound(integration=channel, inbound=inbound)

    results = race(receive, 6)

    assert all(r.created for r in results)
    conversation = Conversation.objects.get()
    assert (conversation.message_count, conversation.unread_count) == (6, 6)
    assert Contact.objects.count() == 1
