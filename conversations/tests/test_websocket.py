"""The /ws/ endpoint through the real ASGI application and the configured channel layer.

On the embedded default that is the in-memory layer; in CI (REDIS_URL set) every test here
runs over channels-redis, and ``test_layer_is_redis_in_ci`` makes sure of it.
"""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from accounts.services import tokens_for
from conversations import services
from conversations.tests.factories import ConversationFactory
from flame.asgi import application
from integrations.tests.factories import IntegrationFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

ALLOWED_ORIGIN = (b"origin", b"http://localhost:5173")


def _communicator(*, token=None, query_token=None, origin=ALLOWED_ORIGIN, cookie=None, path="/ws/"):
    headers = [origin] if origin else []
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    subprotocols = ["flame.jwt", token] if token else None
    if query_token:
        path = f"{path}?token={query_token}"
    return WebsocketCommunicator(application, path, headers=headers, subprotocols=subprotocols)


async def _connect(user, **kwargs):
    token = (await database_sync_to_async(tokens_for)(user))["access"]
    communicator = _communicator(token=token, **kwargs)
    connected, subprotocol = await communicator.connect()
    assert connected, subprotocol
    return communicator


def _session_for(user) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


async def _send_reply(admin, conversation, text):
    await database_sync_to_async(services.message_send_agent)(
        by=admin, conversation=conversation, draft=services.OutboundDraft(content=text)
    )


async def _receive_types(communicator, count: int) -> list[dict]:
    return [await communicator.receive_json_from(timeout=5) for _ in range(count)]


@pytest.mark.redis
def test_layer_is_redis_in_ci():
    assert type(get_channel_layer()).__module__.startswith("channels_redis")


async def test_anonymous_socket_is_refused():
    communicator = _communicator()

    connected, code = await communicator.connect()

    assert (connected, code) == (False, 4401)


async def test_bad_token_is_refused():
    connected, code = await _communicator(token="not.a.jwt").connect()

    assert (connected, code) == (False, 4401)


async def test_jwt_subprotocol_is_accepted_and_echoed(admin_user):
    token = (await database_sync_to_async(tokens_for)(admin_user))["access"]
    communicator = _communicator(token=token)

    connected, subprotocol = await communicator.connect()

    assert (connected, subprotocol) == (True, "flame.jwt")
    await communicator.disconnect()


async def test_query_token_fallback_without_origin(admin_user):
    token = (await database_sync_to_async(tokens_for)(admin_user))["access"]
    communicator = _communicator(query_token=token, origin=None)

    connected, _ = await communicator.connect()

    assert connected
    await communicator.disconnect()


async def test_jwt_from_a_foreign_origin_is_refused(admin_user):
    token = (await database_sync_to_async(tokens_for)(admin_user))["access"]

    connected, code = await _communicator(
        token=token, origin=(b"origin", b"https://evil.example")
    ).connect()

    assert (connected, code) == (False, 4403)


async def test_session_cookie_needs_an_allowed_origin(admin_user):
    cookie = await database_sync_to_async(_session_for)(admin_user)

    same_site, _ = await _communicator(
        cookie=cookie, origin=(b"origin", b"http://127.0.0.1:8000")
    ).connect()
    foreign, foreign_code = await _communicator(
        cookie=cookie, origin=(b"origin", b"https://evil.example")
    ).connect()
    missing, missing_code = await _communicator(cookie=cookie, origin=None).connect()

    assert same_site is True
    assert (foreign, foreign_code) == (False, 4403)
    assert (missing, missing_code) == (False, 4403)


def _sandbox_conversation(workspace, **fields):
    sandbox = IntegrationFactory(workspace=workspace, platform="sandbox")
    return ConversationFactory(workspace=workspace, integration=sandbox, **fields)


async def test_message_reaches_own_workspace_only(admin_user, outsider):
    conversation = await database_sync_to_async(_sandbox_conversation)(admin_user.workspace)
    mine = await _connect(admin_user)
    theirs = await _connect(outsider)

    await _send_reply(admin_user, conversation, "Hola desde la API")
    events = await _receive_types(mine, 2)

    assert [e["type"] for e in events] == ["message:new", "message:status"]
    assert events[0]["data"]["message"]["content"] == "Hola desde la API"
    assert isinstance(events[0]["id"], int)
    assert events[1]["id"] > events[0]["id"]
    assert await theirs.receive_nothing(timeout=0.3)
    await mine.disconnect()
    await theirs.disconnect()


async def test_api_post_reaches_socket(admin_user, agent_user, admin_client):
    conversation = await database_sync_to_async(ConversationFactory)(
        workspace=admin_user.workspace, assigned_agent=agent_user
    )
    agent_socket = await _connect(agent_user)

    response = await database_sync_to_async(admin_client.post)(
        f"/api/conversations/{conversation.pk}/messages",
        {"content": "¿En qué te ayudo?"},
        format="json",
    )
    event = await agent_socket.receive_json_from(timeout=5)

    assert response.status_code == 201
    assert event["type"] == "message:new"
    assert event["data"]["message"]["id"] == response.json()["id"]
    await agent_socket.disconnect()


async def test_agent_does_not_get_other_agents_conversations(admin_user, agent_user, other_agent):
    conversation = await database_sync_to_async(ConversationFactory)(
        workspace=admin_user.workspace, assigned_agent=other_agent
    )
    socket = await _connect(agent_user)

    await _send_reply(admin_user, conversation, "privado")

    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_join_checks_permission(agent_user, other_agent):
    own = await database_sync_to_async(ConversationFactory)(
        workspace=agent_user.workspace, assigned_agent=agent_user
    )
    foreign = await database_sync_to_async(ConversationFactory)(
        workspace=agent_user.workspace, assigned_agent=other_agent
    )
    socket = await _connect(agent_user)

    await socket.send_json_to({"type": "conversation:join", "conversation_id": str(own.pk)})
    joined = await socket.receive_json_from(timeout=5)
    await socket.send_json_to({"type": "conversation:join", "conversation_id": str(foreign.pk)})
    refused = await socket.receive_json_from(timeout=5)
    await socket.send_json_to({"type": "conversation:join", "conversation_id": "not-a-uuid"})
    malformed = await socket.receive_json_from(timeout=5)

    assert joined == {"type": "conversation:joined", "data": {"conversation_id": str(own.pk)}}
    assert refused["type"] == "error"
    assert refused["data"]["code"] == "not_found"
    assert malformed["data"]["code"] == "not_found"
    await socket.disconnect()


async def test_typing_is_relayed_to_the_others_in_the_thread(admin_user, agent_user):
    conversation = await database_sync_to_async(ConversationFactory)(
        workspace=admin_user.workspace, assigned_agent=agent_user
    )
    agent_socket = await _connect(agent_user)
    admin_socket = await _connect(admin_user)
    for socket in (agent_socket, admin_socket):
        await socket.send_json_to(
            {"type": "conversation:join", "conversation_id": str(conversation.pk)}
        )
        await socket.receive_json_from(timeout=5)

    await agent_socket.send_json_to(
        {"type": "typing:start", "conversation_id": str(conversation.pk)}
    )
    seen_by_admin = await admin_socket.receive_json_from(timeout=5)

    assert seen_by_admin == {
        "type": "typing:start",
        "data": {
            "conversation_id": str(conversation.pk),
            "user_id": str(agent_user.pk),
            "user_name": "Aldo Agent",
        },
    }
    assert await agent_socket.receive_nothing(timeout=0.3)

    await admin_socket.send_json_to(
        {"type": "conversation:leave", "conversation_id": str(conversation.pk)}
    )
    await asyncio.sleep(0.05)
    await agent_socket.send_json_to(
        {"type": "typing:stop", "conversation_id": str(conversation.pk)}
    )
    assert await admin_socket.receive_nothing(timeout=0.3)
    await agent_socket.disconnect()
    await admin_socket.disconnect()


async def test_typing_without_joining_is_refused(agent_user):
    socket = await _connect(agent_user)

    await socket.send_json_to({"type": "typing:start", "conversation_id": "x"})
    answer = await socket.receive_json_from(timeout=5)
    await socket.send_json_to({"type": "weird"})
    unknown = await socket.receive_json_from(timeout=5)

    assert answer["data"]["code"] == "not_joined"
    assert unknown["data"]["code"] == "unknown_type"
    await socket.disconnect()


async def test_reconnecting_client_catches_up_from_events(admin_user, admin_client):
    conversation = await database_sync_to_async(_sandbox_conversation)(admin_user.workspace)
    socket = await _connect(admin_user)
    await _send_reply(admin_user, conversation, "antes")
    seen = await _receive_types(socket, 2)
    await socket.disconnect()

    await _send_reply(admin_user, conversation, "mientras estabas fuera")
    missed = await database_sync_to_async(admin_client.get)(f"/api/events?after={seen[-1]['id']}")

    results = missed.json()["results"]
    assert [e["type"] for e in results] == ["message:new", "message:status"]
    assert results[0]["data"]["message"]["content"] == "mientras estabas fuera"
