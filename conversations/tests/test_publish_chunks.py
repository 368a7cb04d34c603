"""Events committed together go to each group as channel-layer messages of at most
``EVENTS_PER_MESSAGE`` events, in commit order (the embedded in-memory layer)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from conversations import realtime
from conversations.audience import admins_group
from conversations.models import Event

pytestmark = pytest.mark.django_db


def test_a_large_batch_is_split_into_bounded_messages_in_order(workspace):
    layer = get_channel_layer()
    events = [
        realtime.event_build(
            workspace_id=workspace.pk,
            kind="conversation:updated",
            payload={"n": n},
            conversation=None,
            user_id=None,
            audience=Event.Audience.ADMINS,
        )
        for n in range(realtime.EVENTS_PER_MESSAGE * 2 + 5)
    ]
    Event.objects.bulk_create(events)

    async def scenario() -> list[dict]:
        name = await layer.new_channel()
        await layer.group_add(admins_group(workspace.pk), name)
        await asyncio.to_thread(realtime.publish_many, events)
        received = []
        with contextlib.suppress(TimeoutError):
            while True:
                received.append(await asyncio.wait_for(layer.receive(name), timeout=0.3))
        return received

    received = async_to_sync(scenario)()

    per = realtime.EVENTS_PER_MESSAGE
    assert [len(message["events"]) for message in received] == [per, per, 5]
    assert [item["id"] for message in received for item in message["events"]] == [
        event.id for event in events
    ]
