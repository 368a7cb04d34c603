"""The only module that touches the channel layer.

Services record an ``Event`` row inside their transaction with :func:`event_record`; after
commit it is pushed to the channel-layer groups of everyone allowed to see it. The channel layer
is at-most-once, so the pushed copy is a notification: clients that were away resume from
``GET /api/events?after=<last id>``, which reads the same rows.

Groups (named in ``conversations.audience``, which decides who joins which and where each event
goes, by the same rule the selectors and the catch-up feed use):
- ``user.<id>``: every socket of one person;
- ``workspace.<id>.members``: every member's sockets (workspace-wide events);
- ``workspace.<id>.admins``: admins see every conversation (and contact) of their workspace;
- ``workspace.<id>.queue``: agents allowed to see unassigned conversations;
- ``conversation.<id>``: sockets that opened a thread (typing indicators only).

A socket's groups follow its user's rights when it connects. When those rights change (role,
deactivation, the workspace's ``agents_see_unassigned``), :func:`rights_changed_on_commit`
tells every socket of the affected users on their ``user.<id>`` group; each one closes and its
client reconnects with the rights it has now.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from conversations.audience import event_groups, user_group
from conversations.models import Conversation, Event

logger = logging.getLogger(__name__)

# One channel-layer message carries a batch of events for a group, in order (see publish_many).
EVENTS_MESSAGE_TYPE = "flame.events"
TYPING_MESSAGE_TYPE = "flame.typing"
RIGHTS_CHANGED_MESSAGE_TYPE = "flame.rights_changed"


def conversation_group(conversation_id) -> str:
    return f"conversation.{conversation_id}"


# Pages poll /api/events this often when the channel layer cannot carry events between
# processes (the embedded default): a message stored by a worker or `manage.py` still shows up.
PROCESS_LOCAL_POLL_SECONDS = 5


def page_poll_seconds() -> int:
    """0 when every process shares the channel layer (Redis), so live events reach each page."""
    process_local = isinstance(get_channel_layer(), InMemoryChannelLayer)
    return PROCESS_LOCAL_POLL_SECONDS if process_local else 0


def event_wire(event: Event) -> dict[str, Any]:
    """What a client receives, live or from /api/events: ``{type, id, data}``."""
    return {"type": event.kind, "id": event.id, "data": event.payload}


class _PublisherLoop:
    """One long-lived event loop thread per process for publishing from synchronous code.

    ``async_to_sync`` from a Celery worker or gunicorn thread starts a fresh event loop for every
    call, and channels-redis keeps its connection pool per loop: every event paid a new Redis
    connection. Publishing on one persistent loop reuses the pool. The in-memory layer
    (embedded default) is bound to the server's own loop, so it keeps ``async_to_sync``.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def _start(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, name="flame-publisher", daemon=True).start()
        return loop

    def run(self, coroutine, timeout: float = 5.0):
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                self._loop = self._start()
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)


_publisher = _PublisherLoop()


def _send(layer, group: str, message: dict) -> None:
    if isinstance(layer, InMemoryChannelLayer):
        async_to_sync(layer.group_send)(group, message)
    else:
        _publisher.run(layer.group_send(group, message))


def publish(event: Event) -> None:
    publish_many([event])


# Groups sent to side by side by one hand-off (each is one Redis connection while it sends).
PUBLISH_CONCURRENCY = 8
# A whole batch waits at most this long for Redis (the events stay in the outbox either way).
PUBLISH_TIMEOUT_SECONDS = 5.0


def publish_many(events: list[Event]) -> None:
    """Send ``events`` to their groups now. Failures are logged, never raised: clients catch up.

    The JSON text is built once here rather than by every socket's consumer: with hundreds of
    sockets in a group, per-socket encoding of the same payload was the dominant fan-out cost.
    Each group gets one channel-layer message holding its events in order, however many there
    are (ingestion commits up to a hundred messages at once). With Redis a message costs about
    four round trips to send and four more for every socket to receive, so sending events one
    by one made the channel layer the largest cost of a burst, on the worker and on daphne
    alike. Different groups are sent side by side, in one hand-off to the publishing loop.
    """
    by_group: dict[str, list[dict]] = {}
    for event in events:
        text = json.dumps(event_wire(event), cls=DjangoJSONEncoder, ensure_ascii=False)
        item = {"id": event.id, "text": text}
        for group in event_groups(event):
            by_group.setdefault(group, []).append(item)
    messages = {group: _batches(items) for group, items in by_group.items()}
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        for group, batches in messages.items():
            for message in batches:
                try:
                    async_to_sync(layer.group_send)(group, message)
                except Exception:
                    logger.exception("Could not publish events", extra=_failed(group, message))
        return
    try:
        _publisher.run(_send_groups(layer, messages), timeout=PUBLISH_TIMEOUT_SECONDS)
    except Exception:
        logger.exception("Could not publish events", extra={"events": len(events)})


# At most this many events in one channel-layer message: a bulk change of a thousand
# conversations still goes as a few messages of bounded size, not one of megabytes.
EVENTS_PER_MESSAGE = 100


def _batches(items: list[dict]) -> list[dict]:
    return [
        {"type": EVENTS_MESSAGE_TYPE, "events": items[start : start + EVENTS_PER_MESSAGE]}
        for start in range(0, len(items), EVENTS_PER_MESSAGE)
    ]


async def _send_groups(layer, messages: dict[str, list[dict]]) -> None:
    slots = asyncio.Semaphore(PUBLISH_CONCURRENCY)

    async def in_order(group: str, batches: list[dict]) -> None:
        async with slots:
            for message in batches:
                try:
                    await layer.group_send(group, message)
                except Exception:
                    logger.exception("Could not publish events", extra=_failed(group, message))

    await asyncio.gather(*(in_order(group, batches) for group, batches in messages.items()))


def _failed(group: str, message: dict) -> dict:
    ids = [item["id"] for item in message["events"]]
    return {"group": group, "first_event_id": ids[0], "last_event_id": ids[-1]}


def publish_on_commit(event: Event) -> None:
    transaction.on_commit(lambda: publish(event), robust=True)


def rights_changed(user_ids) -> None:
    """Tell every socket of these users, now, that what they may see has changed."""
    layer = get_channel_layer()
    for user_id in user_ids:
        try:
            _send(layer, user_group(user_id), {"type": RIGHTS_CHANGED_MESSAGE_TYPE})
        except Exception:
            logger.exception(
                "Could not close sockets after a rights change", extra={"user_id": str(user_id)}
            )


def rights_changed_on_commit(*, user_ids) -> None:
    """After commit, so a socket that reconnects at once reads the new rights, not the old."""
    user_ids = [str(user_id) for user_id in user_ids]
    if user_ids:
        transaction.on_commit(lambda: rights_changed(user_ids), robust=True)


def event_record(
    *,
    workspace_id,
    kind: str,
    payload: dict[str, Any],
    conversation: Conversation | None = None,
    user_id=None,
    admins_only: bool = False,
) -> Event:
    """Write an outbox row in the current transaction and publish it once that commits.

    Its audience: one user (``user_id``), a conversation's, the workspace's admins
    (``admins_only``: what only they may see, such as a contact no conversation shows to an
    agent), or every member."""
    if user_id is not None:
        audience = Event.Audience.USER
    elif admins_only:
        audience = Event.Audience.ADMINS
    elif conversation is not None:
        audience = Event.Audience.CONVERSATION
    else:
        audience = Event.Audience.WORKSPACE
    event = event_build(
        workspace_id=workspace_id,
        kind=kind,
        payload=payload,
        conversation=conversation,
        user_id=user_id,
        audience=audience,
    )
    event_save(event)
    return event


def event_save(event: Event) -> None:
    """Write a built event in the current transaction; it is published once that commits."""
    event.save()
    publish_on_commit(event)


def events_save(events: list[Event]) -> None:
    """Write many built events in one INSERT; they are published together after commit."""
    if events:
        Event.objects.bulk_create(events)
        transaction.on_commit(lambda: publish_many(events), robust=True)


def conversation_event_build(
    *, conversation: Conversation, kind: str, payload: dict[str, Any]
) -> Event:
    """An unsaved event for ``conversation``'s audience (``event_record`` with a conversation)."""
    return event_build(
        workspace_id=conversation.workspace_id,
        kind=kind,
        payload=payload,
        conversation=conversation,
        user_id=None,
        audience=Event.Audience.CONVERSATION,
    )


def system_event_record(*, workspace_id, kind: str, payload: dict[str, Any], conversation=None):
    """An outbox row for outgoing webhooks alone, written in the current transaction."""
    event = event_build(
        workspace_id=workspace_id,
        kind=kind,
        payload=payload,
        conversation=conversation,
        user_id=None,
        audience=Event.Audience.SYSTEM,
    )
    event.save()
    return event


def event_build(*, workspace_id, kind, payload, conversation, user_id, audience) -> Event:
    return Event(
        workspace_id=workspace_id,
        kind=kind,
        audience=audience,
        conversation_id=conversation.pk if conversation is not None else None,
        assigned_agent_id=conversation.assigned_agent_id if conversation is not None else None,
        user_id=user_id,
        payload=payload,
        created_at=timezone.now(),
    )


def conversation_events_record(
    *, kind: str, items: list[tuple[Conversation, dict[str, Any]]]
) -> list[Event]:
    """Many conversation events in one INSERT (bulk ingestion), each published after commit."""
    events = [
        conversation_event_build(conversation=conversation, kind=kind, payload=payload)
        for conversation, payload in items
    ]
    events_save(events)
    return events


# --- socket-side helpers (called by consumers) ---------------------------------------------------


async def join(channel_name: str, group: str) -> None:
    await get_channel_layer().group_add(group, channel_name)


async def leave(channel_name: str, group: str) -> None:
    await get_channel_layer().group_discard(group, channel_name)


async def relay_typing(*, conversation_id, kind: str, user, sender_channel: str) -> None:
    """Typing indicators are ephemeral: straight to the thread's group, no outbox row."""
    await get_channel_layer().group_send(
        conversation_group(conversation_id),
        {
            "type": TYPING_MESSAGE_TYPE,
            "sender_channel": sender_channel,
            "event": {
                "type": kind,
                "data": {
                    "conversation_id": str(conversation_id),
                    "user_id": str(user.pk),
                    "user_name": user.name,
                },
            },
        },
    )
