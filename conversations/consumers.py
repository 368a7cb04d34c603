"""The inbox WebSocket at ``/ws/``: authenticate, authorise, join groups, forward events."""

from __future__ import annotations

import logging
from collections import deque

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.ws_auth import JWT_SUBPROTOCOL, socket_admissible
from conversations import realtime, selectors
from flame.exceptions import NotFoundError

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
TYPING_KINDS = ("typing:start", "typing:stop")


@database_sync_to_async
def _membership(user) -> tuple[list[str], str | None]:
    """Groups a user's socket joins; loaded off the event loop (workspace settings)."""
    groups = [realtime.user_group(user.pk)]
    if user.is_workspace_admin:
        groups.append(realtime.admins_group(user.workspace_id))
    elif selectors.agents_see_unassigned(user.workspace):
        groups.append(realtime.queue_group(user.workspace_id))
    return groups, str(user.workspace_id)


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
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.workspace_id:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not socket_admissible(self.scope):
            logger.warning("WebSocket refused: origin not allowed", extra={"user_id": str(user.pk)})
            await self.close(code=CLOSE_FORBIDDEN_ORIGIN)
            return
        self.user = user
        self.joined: set[str] = set()
        self.conversations: set[str] = set()
        # An admin assigned to a conversation gets its events via two groups: drop the repeat.
        self.recent_event_ids: deque[int] = deque(maxlen=256)
        groups, _ = await _membership(user)
        for group in groups:
            await self._join(group)
        subprotocols = self.scope.get("subprotocols") or []
        await self.accept(JWT_SUBPROTOCOL if JWT_SUBPROTOCOL in subprotocols else None)

    async def disconnect(self, code) -> None:
        for group in list(getattr(self, "joined", ())):
            await realtime.leave(self.channel_name, group)

    async def _join(self, group: str) -> None:
        await realtime.join(self.channel_name, group)
        self.joined.add(group)

    async def receive_json(self, content, **kwargs) -> None:
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
        else:
            await self.send_json({"type": "error", "data": {"code": "unknown_type"}})

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

    # --- channel-layer handlers ("flame.event" → flame_event) ----------------------------------

    async def flame_event(self, message) -> None:
        if message["id"] in self.recent_event_ids:
            return
        self.recent_event_ids.append(message["id"])
        await self.send(text_data=message["text"])

    async def flame_typing(self, message) -> None:
        if message.get("sender_channel") != self.channel_name:
            await self.send_json(message["event"])
