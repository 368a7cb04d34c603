"""Presence and availability: what a member chose, whether a socket of theirs is here, and
offline a few minutes after the last one closed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from accounts import hooks, presence, services
from accounts.models import User
from accounts.services import tokens_for
from flame.asgi import application

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    """What ``member_available`` announced during the test."""
    calls: list = []

    def receiver(*, user_ids):
        calls.append(list(user_ids))

    hooks.member_available.connect(receiver)
    yield calls
    hooks.member_available._receivers.remove(receiver)


def _stored(user: User) -> User:
    return User.objects.get(pk=user.pk)


def test_a_socket_makes_a_member_present_and_online_as_they_chose(agent_user, heard):
    assert presence.effective_availability(agent_user, timezone.now()) == "offline"

    services.presence_socket_opened(user_id=agent_user.pk)
    services.presence_socket_opened(user_id=agent_user.pk)  # a second tab

    member = _stored(agent_user)
    now = timezone.now()
    assert member.open_sockets == 2
    assert presence.has_open_socket(member, now)
    assert presence.effective_availability(member, now) == "online"
    assert heard == [[agent_user.pk]]  # back once, not once per tab


def test_offline_a_few_minutes_after_the_last_socket_closed(agent_user, settings):
    settings.PRESENCE_OFFLINE_AFTER_SECONDS = 300
    services.presence_socket_opened(user_id=agent_user.pk)
    services.presence_socket_closed(user_id=agent_user.pk)
    services.presence_socket_closed(user_id=agent_user.pk)  # never below zero

    member = _stored(agent_user)
    assert member.open_sockets == 0
    assert not presence.has_open_socket(member, timezone.now())
    assert presence.effective_availability(member, timezone.now()) == "online"
    later = timezone.now() + timedelta(minutes=6)
    assert presence.effective_availability(member, later) == "offline"


def test_sockets_of_a_server_that_died_are_not_believed(agent_user, heard):
    User.objects.filter(pk=agent_user.pk).update(
        open_sockets=3, last_seen_at=timezone.now() - timedelta(hours=1)
    )

    assert not presence.has_open_socket(_stored(agent_user), timezone.now())
    services.presence_socket_opened(user_id=agent_user.pk)

    assert _stored(agent_user).open_sockets == 1
    assert heard == [[agent_user.pk]]


def test_a_busy_member_coming_back_takes_nothing(agent_user, heard):
    User.objects.filter(pk=agent_user.pk).update(availability="busy")

    services.presence_socket_opened(user_id=agent_user.pk)

    assert heard == []
    assert presence.effective_availability(_stored(agent_user), timezone.now()) == "busy"


def test_the_member_sets_their_status_through_the_api(agent_client, agent_user, heard):
    services.presence_socket_opened(user_id=agent_user.pk)
    heard.clear()

    busy = agent_client.put("/api/auth/availability", {"availability": "busy"}, format="json")
    online = agent_client.patch("/api/auth/availability", {"availability": "online"}, "json")

    assert busy.json() == {"availability": "busy", "effective": "busy"}
    assert online.json() == {"availability": "online", "effective": "online"}
    assert heard == [[agent_user.pk]]  # online again: they can take conversations


@pytest.mark.parametrize("body", [{"availability": "asleep"}, {}])
def test_a_bad_status_is_refused_and_changes_nothing(agent_client, agent_user, body):
    response = agent_client.put("/api/auth/availability", body, format="json")

    assert response.status_code == 400
    assert "availability" in response.json()["error"]["details"]
    assert _stored(agent_user).availability == "online"


def test_the_status_is_personal(anonymous_client, agent_user):
    assert anonymous_client.get("/api/auth/availability").status_code == 401


@pytest.mark.django_db(transaction=True)
async def test_the_inbox_socket_records_presence(agent_user):
    token = (await database_sync_to_async(tokens_for)(agent_user))["access"]
    socket = WebsocketCommunicator(
        application,
        "/ws/",
        subprotocols=["flame.jwt", token],
        headers=[(b"origin", b"http://localhost:5173")],
    )
    connected, _ = await socket.connect()
    assert connected

    opened = await database_sync_to_async(_stored)(agent_user)
    assert opened.open_sockets == 1
    assert opened.last_seen_at is not None

    await socket.disconnect()
    closed = await database_sync_to_async(_stored)(agent_user)
    assert closed.open_sockets == 0
    assert closed.last_seen_at >= opened.last_seen_at
