from __future__ import annotations

from django.urls import re_path

from conversations.consumers import InboxConsumer

websocket_urlpatterns = [re_path(r"^ws/?$", InboxConsumer.as_asgi())]
