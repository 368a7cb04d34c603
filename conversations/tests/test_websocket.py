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

from accounts import services as account_services
from accounts.models import User
from accounts.services import tokens_for
from accounts.switches import AGENTS_SEE_UNASSIGNED
from accounts.tests.factories import UserFactory
from conversations import services
from conversations.consumers import InboxConsumer
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


async def _closed_with(communicator, timeout: float = 5) -> int:
    """The code the server closed the socket with; then the disconnect a server would send."""
    output = await communicator.receive_output(timeout=timeout)
    assert output["type"] == "websocket.close", output
    await communicator.disconnect(code=output["code"])
    return output["code"]


async def _refusal(communicator) -> int:
    """Refusals accept the handshake, then close with their code: a real client can read it."""
    connected, _ = await communicator.connect()
    assert connected
    return await _closed_with(communicator)


async def _receive_types(communicator, count: int) -> list[dict]:
    return [await communicator.receive_json_from(timeout=5) for _ in range(count)]


@pytest.mark.redis
def test_layer_is_redis_in_ci():
    assert type(get_channel_layer()).__module__.startswith("channels_redis")


async def test_anonymous_socket_is_refused():
    assert await _refusal(_communicator()) == 4401


async def test_bad_token_is_refused():
    assert await _refusal(_communicator(token="not.a.jwt")) == 4401


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

    code = await _refusal(_communicator(token=token, origin=(b"origin", b"https://evil.example")))

    assert code == 4403


async def test_session_cookie_needs_an_allowed_origin(admin_user):
    cookie = await database_sync_to_async(_session_for)(admin_user)

    same_site, _ = await _communicator(
        cookie=cookie, origin=(b"origin", b"http://127.0.0.1:8000")
    ).connect()
    foreign = await _refusal(
        _communicator(cookie=cookie, origin=(b"origin", b"https://evil.example"))
    )
    missing = await _refusal(_communicator(cookie=cookie, origin=None))

    assert same_site is True
    assert (foreign, missing) == (4403, 4403)


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


# --- rights changes: open sockets follow them -----------------------------------------------


@pytest.fixture
def operator_client(client, db):
    operator = UserFactory(
        workspace=None, is_staff=True, is_superuser=True, email="op@flame.example"
    )
    client.force_login(operator)
    return client


def _api(client, method: str, user, body=None) -> int:
    response = getattr(client, method)(f"/api/users/{user.pk}", body, format="json")
    return response.status_code


def _queue_rule(workspace, *, by, agents_see_unassigned: bool) -> None:
    account_services.workspace_update(
        by=by, workspace=workspace, settings={AGENTS_SEE_UNASSIGNED.key: agents_see_unassigned}
    )


async def test_demoting_an_admin_closes_every_socket_of_theirs_and_no_other(
    admin_user, admin_client, agent_user
):
    demoted = await database_sync_to_async(UserFactory)(
        workspace=admin_user.workspace, role="admin"
    )
    theirs = [await _connect(demoted), await _connect(demoted)]
    others = [await _connect(admin_user), await _connect(agent_user)]

    status = await database_sync_to_async(_api)(admin_client, "patch", demoted, {"role": "agent"})

    assert status == 200
    assert [await _closed_with(socket) for socket in theirs] == [4409, 4409]
    for socket in others:
        assert await socket.receive_nothing(timeout=0.3)
        await socket.disconnect()


async def test_demoted_admin_reconnects_without_the_workspace_conversations(
    admin_user, admin_client, other_agent
):
    demoted = await database_sync_to_async(UserFactory)(
        workspace=admin_user.workspace, role="admin"
    )
    foreign = await database_sync_to_async(ConversationFactory)(
        workspace=admin_user.workspace, assigned_agent=other_agent
    )
    own = await database_sync_to_async(ConversationFactory)(
        workspace=admin_user.workspace, assigned_agent=demoted
    )
    socket = await _connect(demoted)
    await database_sync_to_async(_api)(admin_client, "patch", demoted, {"role": "agent"})
    assert await _closed_with(socket) == 4409

    again = await _connect(demoted)
    await _send_reply(admin_user, foreign, "not yours any more")
    await _send_reply(admin_user, own, "yours")
    event = await again.receive_json_from(timeout=5)

    assert (event["type"], event["data"]["conversation_id"]) == ("message:new", str(own.pk))
    await again.disconnect()


async def test_promoting_an_agent_closes_their_socket_and_the_new_one_sees_everything(
    admin_user, admin_client, agent_user, other_agent
):
    foreign = await database_sync_to_async(ConversationFactory)(
        workspace=admin_user.workspace, assigned_agent=other_agent
    )
    socket = await _connect(agent_user)

    status = await database_sync_to_async(_api)(
        admin_client, "patch", agent_user, {"role": "admin"}
    )
    code = await _closed_with(socket)
    again = await _connect(agent_user)
    await _send_reply(admin_user, foreign, "now you see it")
    event = await again.receive_json_from(timeout=5)

    assert (status, code) == (200, 4409)
    assert event["data"]["conversation_id"] == str(foreign.pk)
    await again.disconnect()


async def test_renaming_a_member_keeps_their_socket(admin_user, admin_client, agent_user):
    own = await database_sync_to_async(ConversationFactory)(
        workspace=admin_user.workspace, assigned_agent=agent_user
    )
    socket = await _connect(agent_user)

    status = await database_sync_to_async(_api)(
        admin_client, "patch", agent_user, {"name": "Aldo B.", "role": "agent"}
    )
    await _send_reply(admin_user, own, "still here")
    event = await socket.receive_json_from(timeout=5)

    assert status == 200
    assert (event["type"], event["data"]["conversation_id"]) == ("message:new", str(own.pk))
    await socket.disconnect()


async def test_deleting_a_member_closes_their_socket_and_refuses_the_next(admin_client, agent_user):
    socket = await _connect(agent_user)

    status = await database_sync_to_async(_api)(admin_client, "delete", agent_user)
    code = await _closed_with(socket)
    token = (await database_sync_to_async(tokens_for)(agent_user))["access"]
    again = await _refusal(_communicator(token=token))

    assert (status, code, again) == (204, 4409, 4401)


async def test_refused_membership_change_keeps_the_socket(admin_user, admin_client):
    socket = await _connect(admin_user)

    # the last admin cannot be demoted: nothing changes, nobody is told anything
    status = await database_sync_to_async(_api)(
        admin_client, "patch", admin_user, {"role": "agent"}
    )

    assert status == 409
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_operator_deactivation_action_closes_the_sockets(
    operator_client, agent_user, other_agent
):
    deactivated = await _connect(agent_user)
    bystander = await _connect(other_agent)

    response = await database_sync_to_async(operator_client.post)(
        "/admin/accounts/user/",
        {"action": "deactivate_users", "_selected_action": [str(agent_user.pk)]},
    )

    assert response.status_code == 302
    assert await _closed_with(deactivated) == 4409
    assert await bystander.receive_nothing(timeout=0.3)
    await bystander.disconnect()


async def test_operator_role_edit_closes_the_socket(operator_client, agent_user):
    socket = await _connect(agent_user)
    form = {
        "email": agent_user.email,
        "name": agent_user.name,
        "avatar_url": "",
        "language": "",
        "workspace": str(agent_user.workspace_id),
        "role": "admin",
        "is_active": "on",
    }

    response = await database_sync_to_async(operator_client.post)(
        f"/admin/accounts/user/{agent_user.pk}/change/", form
    )

    assert response.status_code == 302, response.content[:2000]
    assert await _closed_with(socket) == 4409


async def test_operator_deleting_a_user_closes_their_socket(operator_client, agent_user):
    socket = await _connect(agent_user)

    response = await database_sync_to_async(operator_client.post)(
        f"/admin/accounts/user/{agent_user.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    assert await database_sync_to_async(User.objects.filter(pk=agent_user.pk).exists)() is False
    assert await _closed_with(socket) == 4409


async def test_queue_switched_off_closes_agents_sockets_only(
    admin_user, agent_user, other_agent, outsider
):
    workspace = admin_user.workspace
    await database_sync_to_async(_queue_rule)(workspace, by=admin_user, agents_see_unassigned=True)
    agents = [await _connect(agent_user), await _connect(other_agent)]
    unaffected = [await _connect(admin_user), await _connect(outsider)]

    await database_sync_to_async(_queue_rule)(workspace, by=admin_user, agents_see_unassigned=False)

    assert [await _closed_with(socket) for socket in agents] == [4409, 4409]
    for socket in unaffected:
        assert await socket.receive_nothing(timeout=0.3)
        await socket.disconnect()


async def test_queue_switched_on_closes_agents_sockets_and_the_new_one_sees_the_queue(
    admin_user, agent_user
):
    unassigned = await database_sync_to_async(ConversationFactory)(workspace=admin_user.workspace)
    socket = await _connect(agent_user)

    await database_sync_to_async(_queue_rule)(
        admin_user.workspace, by=admin_user, agents_see_unassigned=True
    )
    code = await _closed_with(socket)
    again = await _connect(agent_user)
    await _send_reply(admin_user, unassigned, "in the queue")
    event = await again.receive_json_from(timeout=5)

    assert code == 4409
    assert event["data"]["conversation_id"] == str(unassigned.pk)
    await again.disconnect()


async def test_workspace_saved_without_changing_the_queue_rule_keeps_sockets(
    admin_user, agent_user
):
    socket = await _connect(agent_user)

    await database_sync_to_async(account_services.workspace_update)(
        by=admin_user,
        workspace=admin_user.workspace,
        name="Renamed",
        settings={AGENTS_SEE_UNASSIGNED.key: False},
    )

    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


def _consumer_authenticated_as(user):
    """The consumer behind an authentication that loaded ``user`` before a change committed."""
    consumer = InboxConsumer.as_asgi()

    async def app(scope, receive, send):
        return await consumer(dict(scope, user=user, auth_method="session"), receive, send)

    return app


async def test_socket_is_authorised_with_the_rights_stored_when_it_connects(
    admin_user, other_agent
):
    stale = await database_sync_to_async(UserFactory)(workspace=admin_user.workspace, role="admin")
    await database_sync_to_async(User.objects.filter(pk=stale.pk).update)(role="agent")
    foreign = await database_sync_to_async(ConversationFactory)(
        workspace=admin_user.workspace, assigned_agent=other_agent
    )
    own = await database_sync_to_async(ConversationFactory)(
        workspace=admin_user.workspace, assigned_agent=stale
    )
    socket = WebsocketCommunicator(
        _consumer_authenticated_as(stale), "/ws/", headers=[ALLOWED_ORIGIN]
    )
    connected, _ = await socket.connect()

    await _send_reply(admin_user, foreign, "admins only")
    await _send_reply(admin_user, own, "yours")
    event = await socket.receive_json_from(timeout=5)

    assert connected
    assert event["data"]["conversation_id"] == str(own.pk)
    await socket.disconnect()


async def test_socket_of_a_user_deactivated_after_authentication_is_refused(agent_user):
    await database_sync_to_async(User.objects.filter(pk=agent_user.pk).update)(is_active=False)

    code = await _refusal(
        WebsocketCommunicator(
            _consumer_authenticated_as(agent_user), "/ws/", headers=[ALLOWED_ORIGIN]
        )
    )

    assert code == 4401


async def test_token_revoked_by_a_password_change_is_refused(agent_user):
    token = (await database_sync_to_async(tokens_for)(agent_user))["access"]
    agent_user.set_password("a-New-password-2024")
    await database_sync_to_async(agent_user.save)(update_fields=["password"])

    assert await _refusal(_communicator(token=token)) == 4401
