"""A batch of events committed together (an ingestion batch) is published in one hand-off to
the publishing loop, one channel-layer message per group: every socket still gets every event,
each group in commit order."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.db import connection

from accounts.services import tokens_for
from accounts.tests.factories import UserFactory
from conversations.audience import admins_group
from conversations.services import InboundMessage, messages_receive_inbound
from conversations.tests.test_websocket_scale import _collect, _open
from flame.testing import live_daphne
from integrations.tests.factories import IntegrationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

CUSTOMERS = 40


@pytest.fixture
def daphne_port():
    with live_daphne() as url:
        yield int(url.rsplit(":", 1)[1])


def test_a_batch_of_messages_reaches_every_socket_in_order(workspace, daphne_port):
    tokens = [
        tokens_for(UserFactory(workspace=workspace, role="admin"))["access"] for _ in range(2)
    ]
    channel = IntegrationFactory(workspace=workspace, platform="whatsapp")

    def ingest():
        messages_receive_inbound(
            integration=channel,
            inbounds=[
                InboundMessage(
                    external_contact_id=f"5215500{n:04d}", external_id=f"b{n}", content=f"Hola {n}"
                )
                for n in range(CUSTOMERS)
            ],
        )
        connection.close()

    async def scenario():
        sockets = [await _open(daphne_port, token) for token in tokens]
        await asyncio.sleep(0.3)
        await asyncio.to_thread(ingest)
        received = await asyncio.gather(
            *(_collect(sock, CUSTOMERS, timeout=10) for sock in sockets)
        )
        await asyncio.gather(*(sock.close() for sock in sockets))
        return received

    received = asyncio.run(scenario())

    assert [len(ids) for ids in received] == [CUSTOMERS, CUSTOMERS]
    assert all(ids == sorted(ids) for ids in received)


def test_a_groups_events_travel_as_one_channel_layer_message(workspace):
    """Sending (and receiving) a channel-layer message costs Redis round trips whatever it
    holds: a batch's events for one group go as one message, in commit order."""
    layer = get_channel_layer()
    assert isinstance(layer, RedisChannelLayer)
    channel = IntegrationFactory(workspace=workspace, platform="whatsapp")

    async def listen() -> str:
        name = await layer.new_channel()
        await layer.group_add(admins_group(workspace.pk), name)
        return name

    async def drain(name: str) -> list[dict]:
        messages = [await asyncio.wait_for(layer.receive(name), timeout=5)]
        with contextlib.suppress(TimeoutError):
            while True:
                messages.append(await asyncio.wait_for(layer.receive(name), timeout=0.5))
        return messages

    listener = async_to_sync(listen)()
    batch = messages_receive_inbound(
        integration=channel,
        inbounds=[
            InboundMessage(external_contact_id=f"5215511{n:04d}", external_id=f"g{n}", content="Hi")
            for n in range(5)
        ],
    )
    received = async_to_sync(drain)(listener)

    assert [message["type"] for message in received] == ["flame.events"]
    events = [json.loads(item["text"]) for item in received[0]["events"]]
    assert [event["type"] for event in events] == ["message:new"] * 5
    assert [event["data"]["message"]["id"] for event in events] == [
        str(message.pk) for message in batch.messages
    ]
    assert [item["id"] for item in received[0]["events"]] == sorted(
        item["id"] for item in received[0]["events"]
    )
