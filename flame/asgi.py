"""ASGI entry point: daphne serves WebSockets in production, and everything in development."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flame.settings")

# Django must be set up before anything imports models (consumers, routing).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.ws_auth import JwtAuthMiddleware  # noqa: E402
from conversations.routing import websocket_urlpatterns  # noqa: E402
from flame.runtime import startup_objects_frozen  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Session user first, then a JWT (if given) replaces it; Origin is checked per socket
        # in the consumer because the rule depends on how the socket authenticated.
        "websocket": AuthMiddlewareStack(JwtAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
startup_objects_frozen()
