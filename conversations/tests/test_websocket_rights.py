"""Open sockets lose the rights their user loses, on real sockets against a real daphne.

The change is made in this process through the API or the settings page, as an admin would;
it publishes on the Redis channel layer the daphne process listens to. Within a second or two
the affected sockets must be closed with 4409 ("rights changed: reconnect"); what a reconnected
socket then receives follows the new rights, and a deactivated user is refused with 4401.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets
from django.db import connection
from django.test import Client

from accounts.services import tokens_for
from accounts.switches import AGENTS_SEE_UNASSIGNED
from accounts.tests.factories import UserFactory
from conversations import services
from conversations.tests.factories import ConversationFactory
from flame.testing import live_daphne

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

CLOSE_WITHIN = 2.0  # seconds from the committed change to the socket's close frame


@pytest.fixture
def server():
    with live_daphne() as url:
        yield url.replace("http://", "ws://") + "/ws/"


async def _open(url: str, user):
    token = (await _sync(tokens_for, user))["access"]
    return await websockets.connect(url, subprotocols=["flame.jwt", token], open_timeout=10)


def _in_thread(function, *args, **kwargs):
    """Django work from a worker thread: its connection must not outlive the call."""
    try:
        return function(*args, **kwargs)
    finally:
        connection.close()


async def _sync(function, *args, **kwargs):
    return await asyncio.to_thread(_in_thread, function, *args, **kwargs)


async def _frames_until_closed(socket, timeout: float) -> tuple[list[dict], int | None, float]:
    """Everything received until the server closes the socket: (frames, close code, seconds).

    The code is None when the socket is still open after ``timeout``.
    """
    frames = []
    started = time.monotonic()
    try:
        while True:
            frame = await asyncio.wait_for(socket.recv(), timeout - (time.monotonic() - started))
            frames.append(json.loads(frame))
    except websockets.ConnectionClosed:
        return frames, socket.close_code, time.monotonic() - started
    except TimeoutError:
        return frames, None, time.monotonic() - started


async def _next_message(socket) -> dict:
    """The next ``message:new`` (sandbox-free conversations send no status events)."""
    while True:
        event = json.loads(await asyncio.wait_for(socket.recv(), 5))
        if event["type"] == "message:new":
            return event


def _reply(by, conversation, text: str) -> None:
    services.message_send_agent(
        by=by, conversation=conversation, draft=services.OutboundDraft(content=text)
    )


async def _closed_by(socket, change) -> tuple[int, list[dict], int | None, float]:
    """Make ``change`` (it returns an HTTP status), then wait for the socket to be closed."""
    status = await _sync(change)
    frames, code, seconds = await _frames_until_closed(socket, timeout=CLOSE_WITHIN + 3)
    return status, frames, code, seconds


def test_deactivated_agent_socket_closes_and_cannot_reconnect(
    server, admin_user, admin_client, agent_user
):
    own = ConversationFactory(workspace=agent_user.workspace, assigned_agent=agent_user)

    def deactivate() -> int:
        return admin_client.delete(f"/api/users/{agent_user.pk}").status_code

    async def scenario():
        socket = await _open(server, agent_user)
        await _sync(_reply, admin_user, own, "before")
        before = await _next_message(socket)
        status, frames, code, seconds = await _closed_by(socket, deactivate)
        await _sync(_reply, admin_user, own, "after")
        again = await _open(server, agent_user)  # the access token has not expired
        refused = await _frames_until_closed(again, timeout=5)
        return before, status, frames, code, seconds, refused

    before, status, frames, code, seconds, refused = asyncio.run(scenario())

    assert before["data"]["conversation_id"] == str(own.pk)
    assert (status, code, frames) == (204, 4409, [])
    assert seconds < CLOSE_WITHIN
    assert refused[:2] == ([], 4401)


def test_demoted_admin_socket_closes_and_reconnects_with_agent_rights(
    server, admin_user, admin_client, other_agent
):
    demoted = UserFactory(workspace=admin_user.workspace, role="admin")
    foreign = ConversationFactory(workspace=admin_user.workspace, assigned_agent=other_agent)
    own = ConversationFactory(workspace=admin_user.workspace, assigned_agent=demoted)

    def demote() -> int:
        body = {"role": "agent", "name": demoted.name, "is_active": True}
        return admin_client.put(f"/api/users/{demoted.pk}", body, format="json").status_code

    async def scenario():
        socket = await _open(server, demoted)
        await _sync(_reply, admin_user, foreign, "seen as admin")
        before = await _next_message(socket)
        status, frames, code, seconds = await _closed_by(socket, demote)
        again = await _open(server, demoted)
        # Published in this order: had the new socket the admins' group, ``foreign`` came first.
        await _sync(_reply, admin_user, foreign, "no longer yours to see")
        await _sync(_reply, admin_user, own, "yours")
        after = await _next_message(again)
        await again.close()
        return before, status, frames, code, seconds, after

    before, status, frames, code, seconds, after = asyncio.run(scenario())

    assert before["data"]["conversation_id"] == str(foreign.pk)
    assert (status, code, frames) == (200, 4409, [])
    assert seconds < CLOSE_WITHIN
    assert after["data"]["conversation_id"] == str(own.pk)
    assert after["data"]["message"]["content"] == "yours"


def test_queue_switched_off_closes_agent_sockets_but_not_admins(
    server, workspace, admin_user, agent_user
):
    workspace.settings = {AGENTS_SEE_UNASSIGNED.key: True}
    workspace.save(update_fields=["settings"])
    queued = ConversationFactory(workspace=workspace)
    own = ConversationFactory(workspace=workspace, assigned_agent=agent_user)
    settings_page = Client()
    settings_page.force_login(admin_user)

    def switch_off() -> int:
        form = {"name": workspace.name, "timezone": workspace.timezone, "language": "es"}
        return settings_page.post("/settings/workspace/", form).status_code  # box unticked

    async def scenario():
        agent_socket = await _open(server, agent_user)
        admin_socket = await _open(server, admin_user)
        await _sync(_reply, admin_user, queued, "in the queue")
        before = [await _next_message(agent_socket), await _next_message(admin_socket)]
        status, frames, code, seconds = await _closed_by(agent_socket, switch_off)
        agent_again = await _open(server, agent_user)
        await _sync(_reply, admin_user, queued, "queue, after the switch")
        await _sync(_reply, admin_user, own, "assigned to the agent")
        agent_after = await _next_message(agent_again)
        admin_after = await _frames_until_closed(admin_socket, timeout=1)
        await agent_again.close()
        await admin_socket.close()
        return before, status, frames, code, seconds, agent_after, admin_after

    before, status, frames, code, seconds, agent_after, admin_after = asyncio.run(scenario())

    assert [event["data"]["conversation_id"] for event in before] == [str(queued.pk)] * 2
    assert (status, code, frames) == (302, 4409, [])
    assert seconds < CLOSE_WITHIN
    assert agent_after["data"]["conversation_id"] == str(own.pk)
    admin_frames, admin_code, _ = admin_after
    assert admin_code is None  # the admin's socket stays open, and live
    assert [e["data"]["conversation_id"] for e in admin_frames if e["type"] == "message:new"] == [
        str(queued.pk),
        str(own.pk),
    ]
