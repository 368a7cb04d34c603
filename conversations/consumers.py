"""The inbox WebSocket at ``/ws/``: authenticate, authorise, join groups, forward events.

Close codes, from which a client decides whether to reconnect:

- 4401 ``CLOSE_UNAUTHENTICATED``: no valid session or token, or the user was deactivated or
  deleted. Do not reconnect: sign in again.
- 4403 ``CLOSE_FORBIDDEN_ORIGIN``: the Origin is not allowed for how the socket authenticated.
- 4409 ``CLOSE_RIGHTS_CHANGED``: what the user may see changed (their role, their deactivation,
  the workspace's ``agents_see_unassigned``). Reconnect now: the new socket is authorised with
  the current rights. Then catch up from ``GET /api/events?after=<last id>`` as after any drop.

Refusals accept the handshake and close with their code at once: a refused handshake reaches a
client as HTTP 403 (1006 in a browser), indistinguishable from a network error.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts import services as accounts_services
from accounts.ws_auth import JWT_SUBPROTOCOL, socket_admissible, socket_user
from conversations import audience, realtime, selectors
from flame.exceptions import NotFoundError

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_RIGHTS_CHANGED = 4409
TYPING_KINDS = ("typing:start", "typing:stop")
# An open socket tells presence it is alive at most this often (its pings come every 25 s).
PRESENCE_TOUCH_SECONDS = 60


@database_sync_to_async
def _current_member(scope) -> tuple[Any, audience.Viewer | None]:
    """The socket's user as stored now and what they may see (read off the event loop);
    (None, None) if they may not connect."""
    user = socket_user(scope)
    viewer = audience.Viewer.of(user) if user is not None else None
    return (user, viewer) if viewer is not None else (None, None)


@database_sync_to_async
def _presence(change: str, user_id) -> None:
    """Record a socket opening, closing or still alive (accounts.presence); never fatal."""
    record = {
        "opened": accounts_services.presence_socket_opened,
        "closed": accounts_services.presence_socket_closed,
        "alive": accounts_services.presence_socket_alive,
    }[change]
    try:
        record(user_id=user_id)
    except Exception:  # presence is a hint: the socket must not fail for it
        logger.exception("Could not record presence", extra={"user_id": str(user_id)})


@database_sync_to_async
def _can_open(user, conversation_id) -> bool:
    try:
        selectors.conversation_get_for(user=user, conversation_id=conversation_id)
    except (NotFoundError, ValueError, TypeError):
        return False
    except Exception:  # noqa: BLE001 - a malformed id (ValidationError) is just "no"
        return False
    return True


class InboxConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.joined: set[str] = set()
        self.closing = False
        self.present_since = 0.0  # monotonic time presence last heard of this socket
        user = self.scope.get("user")  # who it claims to be; loaded below
        if user is None or not user.is_authenticated:
            await self._refuse(CLOSE_UNAUTHENTICATED)
            return
        if not socket_admissible(self.scope):
            logger.warning("WebSocket refused: origin not allowed", extra={"user_id": str(user.pk)})
            await self._refuse(CLOSE_FORBIDDEN_ORIGIN)
            return
        # The personal group before reading the rights: a change that commits after the read
        # is announced there, so it cannot fall between the read and joining the groups.
        await self._join(audience.user_group(user.pk))
        self.user, viewer = await _current_member(self.scope)
        if viewer is None:
            await self._refuse(CLOSE_UNAUTHENTICATED)
            return
        self.conversations: set[str] = set()
        # An admin assigned to a conversation gets its events via two groups: drop the repeat.
        self.recent_event_ids: deque[int] = deque(maxlen=256)
        for group in audience.groups_for(viewer):
            if group not in self.joined:
                await self._join(group)
        await self.accept(self._subprotocol())
        await _presence("opened", self.user.pk)
        self.present_since = time.monotonic()

    def _subprotocol(self) -> str | None:
        # A browser fails a handshake that does not echo one of the subprotocols it offered.
        subprotocols = self.scope.get("subprotocols") or []
        return JWT_SUBPROTOCOL if JWT_SUBPROTOCOL in subprotocols else None

    async def _refuse(self, code: int) -> None:
        self.closing = True
        await self._leave_all()
        await self.accept(self._subprotocol())
        await self.close(code=code)

    async def disconnect(self, code) -> None:
        await self._leave_all()
        if getattr(self, "present_since", 0.0):
            self.present_since = 0.0
            await _presence("closed", self.user.pk)

    async def _join(self, group: str) -> None:
        await realtime.join(self.channel_name, group)
        self.joined.add(group)

    async def _leave_all(self) -> None:
        for group in list(getattr(self, "joined", ())):
            await realtime.leave(self.channel_name, group)
        self.joined = set()

    async def receive_json(self, content, **kwargs) -> None:
        if self.closing:
            return  # refused or revoked: whatever the client sent before the close is void
        kind = content.get("type") if isinstance(content, dict) else None
        conversation_id = (
            str(content.get("conversation_id", "")) if isinstance(content, dict) else ""
        )
        if kind == "conversation:join":
            await self._open(conversation_id)
        elif kind == "conversation:leave":
            await self._close_thread(conversation_id)
        elif kind in TYPING_KINDS:
            await self._typing(kind, conversation_id)
        elif kind == "ping":
            await self.send_json({"type": "pong"})
            await self._still_here()
        else:
            await self.send_json({"type": "error", "data": {"code": "unknown_type"}})

    async def _still_here(self) -> None:
        now = time.monotonic()
        if self.present_since and now - self.present_since >= PRESENCE_TOUCH_SECONDS:
            self.present_since = now
            await _presence("alive", self.user.pk)

    async def _open(self, conversation_id: str) -> None:
        if not await _can_open(self.user, conversation_id):
            await self.send_json(
                {"type": "error", "data": {"code": "not_found", "conversation_id": conversation_id}}
            )
            return
        self.conversations.add(conversation_id)
        await self._join(realtime.conversation_group(conversation_id))
        await self.send_json(
            {"type": "conversation:joined", "data": {"conversation_id": conversation_id}}
        )

    async def _close_thread(self, conversation_id: str) -> None:
        if conversation_id in self.conversations:
            self.conversations.discard(conversation_id)
            group = realtime.conversation_group(conversation_id)
            await realtime.leave(self.channel_name, group)
            self.joined.discard(group)

    async def _typing(self, kind: str, conversation_id: str) -> None:
        if conversation_id not in self.conversations:
            await self.send_json({"type": "error", "data": {"code": "not_joined"}})
            return
        await realtime.relay_typing(
            conversation_id=conversation_id,
            kind=kind,
            user=self.user,
            sender_channel=self.channel_name,
        )

    # --- channel-layer handlers ("flame.events" → flame_events) --------------------------------

    async def flame_events(self, message) -> None:
        """A batch of events for one of the socket's groups, in order (realtime.publish_many)."""
        for event in message["events"]:
            if self.closing:
                return
            if event["id"] in self.recent_event_ids:
                continue
            self.recent_event_ids.append(event["id"])
            await self.send(text_data=event["text"])

    async def flame_typing(self, message) -> None:
        if not self.closing and message.get("sender_channel") != self.channel_name:
            await self.send_json(message["event"])

    async def flame_rights_changed(self, message) -> None:
        """The user's rights changed: stop forwarding at once and make the client reconnect.

        Events already queued for this socket are dropped too; the client reads whatever it
        may still see from /api/events after reconnecting.
        """
        if self.closing:
            return
        self.closing = True
        await self._leave_all()
        await self.close(code=CLOSE_RIGHTS_CHANGED)
