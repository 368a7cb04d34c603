"""The floor: a bare Channels consumer that joins one group and forwards what it receives.

Same channel layer, same daphne, none of FLAME's work (auth, outbox, serialisation), so the
difference between this and the real /ws/ endpoint is what FLAME itself costs.
"""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flame.settings")
django.setup()

from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

GROUP = "bench.bare"


class BareConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code) -> None:
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def bench_event(self, message) -> None:
        await self.send_json(message["event"])


application = ProtocolTypeRouter({"websocket": URLRouter([path("ws/", BareConsumer.as_asgi())])})
