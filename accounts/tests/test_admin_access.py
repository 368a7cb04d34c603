"""Django admin edits of a user's access go through a service: deactivation revokes tokens, a
role or active change closes the user's sockets, the workspace cannot be changed, and a refused
edit changes nothing."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.models import Permission
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.services import tokens_for
from accounts.tests.factories import UserFactory
from conversations import realtime
from flame.testing import admin_change_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db):
    return UserFactory(workspace=None, is_staff=True, is_superuser=True, email="op@flame.example")


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


def url(user) -> str:
    return f"/admin/accounts/user/{user.pk}/change/"


def _revoked(user) -> tuple[int, int]:
    """(refresh tokens issued to ``user``, how many of them are revoked)."""
    issued = OutstandingToken.objects.filter(user=user).count()
    return issued, BlacklistedToken.objects.filter(token__user=user).count()


@pytest.fixture
def socket_of():
    """A channel joined to a user's group, as their open socket is; ``.told()`` is what it got."""
    layer = get_channel_layer()

    class Socket:
        def __init__(self, user) -> None:
            self.channel = async_to_sync(layer.new_channel)()
            async_to_sync(layer.group_add)(realtime.user_group(user.pk), self.channel)

        def told(self) -> list[str]:
            async def drain() -> list[str]:
                kinds = []
                while True:
                    try:
                        message = await asyncio.wait_for(layer.receive(self.channel), 0.3)
                    except TimeoutError:
                        return kinds
                    kinds.append(message["type"])

            return async_to_sync(drain)()

    return Socket


def test_deactivating_in_admin_revokes_tokens_and_closes_sockets(
    operator_client, agent_user, socket_of, django_capture_on_commit_callbacks
):
    tokens_for(agent_user)
    socket = socket_of(agent_user)
    data = admin_change_form_data(operator_client, url(agent_user), is_active=None)

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(url(agent_user), data)

    assert response.status_code == 302
    agent_user.refresh_from_db()
    assert agent_user.is_active is False
    assert _revoked(agent_user) == (1, 1)
    assert socket.told() == [realtime.RIGHTS_CHANGED_MESSAGE_TYPE]


def test_role_change_in_admin_closes_sockets_and_keeps_tokens(
    operator_client, agent_user, socket_of, django_capture_on_commit_callbacks
):
    tokens_for(agent_user)
    socket = socket_of(agent_user)
    data = admin_change_form_data(operator_client, url(agent_user), role="admin", name="Aldo A.")

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(url(agent_user), data)

    assert response.status_code == 302
    agent_user.refresh_from_db()
    assert (agent_user.role, agent_user.name, agent_user.is_active) == ("admin", "Aldo A.", True)
    assert _revoked(agent_user) == (1, 0)
    assert socket.told() == [realtime.RIGHTS_CHANGED_MESSAGE_TYPE]


def test_profile_edit_in_admin_leaves_access_alone(
    operator_client, agent_user, socket_of, django_capture_on_commit_callbacks
):
    tokens_for(agent_user)
    socket = socket_of(agent_user)
    data = admin_change_form_data(operator_client, url(agent_user), name="Aldo Renamed")

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(url(agent_user), data)

    assert response.status_code == 302
    agent_user.refresh_from_db()
    assert agent_user.name == "Aldo Renamed"
    assert _revoked(agent_user) == (1, 0)
    assert socket.told() == []


def test_reactivating_in_admin(operator_client, agent_user):
    agent_user.is_active = False
    agent_user.save(update_fields=["is_active"])
    data = admin_change_form_data(operator_client, url(agent_user), is_active="on")

    response = operator_client.post(url(agent_user), data)

    assert response.status_code == 302
    agent_user.refresh_from_db()
    assert agent_user.is_active is True


def test_workspace_is_read_only_in_the_change_form(operator_client, agent_user, outsider):
    page = operator_client.get(url(agent_user))
    assert "workspace" not in page.context["adminform"].form.fields
    data = admin_change_form_data(
        operator_client, url(agent_user), workspace=str(outsider.workspace_id)
    )

    response = operator_client.post(url(agent_user), data)

    assert response.status_code == 302
    agent_user.refresh_from_db()
    assert agent_user.workspace.name == "Workspace A"


def test_operator_cannot_deactivate_themselves(operator_client, operator):
    tokens_for(operator)
    data = admin_change_form_data(operator_client, url(operator), is_active=None, name="Op")

    response = operator_client.post(url(operator), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "You cannot deactivate yourself."
    ]
    operator.refresh_from_db()
    assert (operator.is_active, operator.name) == (True, operator.name)
    assert operator.name != "Op"  # the rest of the save was rolled back too
    assert _revoked(operator) == (1, 0)


def test_staff_without_operator_rights_cannot_change_access(client, agent_user):
    staff = UserFactory(workspace=None, is_staff=True, email="staff@flame.example")
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    client.force_login(staff)
    data = admin_change_form_data(client, url(agent_user), role="admin")

    response = client.post(url(agent_user), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "Only platform operators can do this."
    ]
    agent_user.refresh_from_db()
    assert agent_user.role == "agent"


def test_setting_a_password_in_admin_revokes_tokens(operator_client, agent_user):
    tokens_for(agent_user)

    response = operator_client.post(
        f"/admin/accounts/user/{agent_user.pk}/password/",
        {
            "password1": "fresh-Harbor-2031",
            "password2": "fresh-Harbor-2031",
            "usable_password": "true",
        },
    )

    assert response.status_code == 302
    agent_user.refresh_from_db()
    assert agent_user.check_password("fresh-Harbor-2031")
    assert _revoked(agent_user) == (1, 1)
