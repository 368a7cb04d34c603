from __future__ import annotations

import uuid

import pytest
from django.core import mail

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_admin_lists_only_own_workspace_members(admin_client, admin_user, agent_user, outsider):
    response = admin_client.get("/api/users")

    assert response.status_code == 200
    emails = sorted(row["email"] for row in response.json()["results"])
    assert emails == ["admin@a.example", "agent@a.example"]


def test_admin_creates_agent_with_password(admin_client, admin_user):
    response = admin_client.post(
        "/api/users",
        {"email": "New@A.example", "name": "Nico", "role": "agent", "password": "quiet-Lake-2024"},
        format="json",
    )

    assert response.status_code == 201
    created = User.objects.get(email="new@a.example")
    assert created.workspace_id == admin_user.workspace_id
    assert created.check_password("quiet-Lake-2024")
    assert "password" not in response.json()


def test_admin_invites_without_password_sends_email(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/api/users",
            {"email": "invitee@a.example", "name": "Ivo", "role": "agent"},
            format="json",
        )

    assert response.status_code == 201
    invited = User.objects.get(email="invitee@a.example")
    assert not invited.has_usable_password()
    assert len(mail.outbox) == 1
    assert "/reset-password/" in mail.outbox[0].body


def test_create_duplicate_email_is_409(admin_client, admin_user, outsider):
    response = admin_client.post(
        "/api/users", {"email": "outsider@b.example", "name": "Dup", "role": "agent"}, format="json"
    )

    assert response.status_code == 409
    assert User.objects.filter(email="outsider@b.example").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "bad", "name": "X", "role": "agent"}, "email"),
        ({"email": "x@a.example", "name": "X", "role": "owner"}, "role"),
        ({"email": "x@a.example", "role": "agent"}, "name"),
    ],
)
def test_create_bad_input_is_400(admin_client, admin_user, body, field):
    response = admin_client.post("/api/users", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert User.objects.count() == 1


def test_admin_changes_role(admin_client, agent_user):
    response = admin_client.patch(f"/api/users/{agent_user.pk}", {"role": "admin"}, format="json")

    assert response.status_code == 200
    agent_user.refresh_from_db()
    assert agent_user.role == "admin"


def test_admin_deactivates_agent_and_revokes_tokens(admin_client, agent_user, anonymous_client):
    refresh = anonymous_client.post(
        "/api/auth/login",
        {"email": "agent@a.example", "password": "correct-horse-battery-9"},
        format="json",
    ).json()["refresh"]

    response = admin_client.delete(f"/api/users/{agent_user.pk}")

    assert response.status_code == 204
    agent_user.refresh_from_db()
    assert agent_user.is_active is False
    again = anonymous_client.post("/api/auth/refresh", {"refresh": refresh}, format="json")
    assert again.status_code == 401


def test_last_admin_cannot_be_demoted_or_deactivated(admin_client, admin_user):
    demote = admin_client.patch(f"/api/users/{admin_user.pk}", {"role": "agent"}, format="json")

    assert demote.status_code == 409
    assert demote.json()["error"]["code"] == "last_admin"
    admin_user.refresh_from_db()
    assert (admin_user.role, admin_user.is_active) == ("admin", True)


def test_admin_cannot_deactivate_self(admin_client, admin_user, workspace):
    UserFactory(workspace=workspace, role="admin")

    response = admin_client.delete(f"/api/users/{admin_user.pk}")

    assert response.status_code == 409
    admin_user.refresh_from_db()
    assert admin_user.is_active is True


def test_agent_cannot_manage_users(agent_client, agent_user, other_agent):
    assert agent_client.get("/api/users").status_code == 403
    create = agent_client.post(
        "/api/users", {"email": "z@a.example", "name": "Z", "role": "admin"}, format="json"
    )
    promote = agent_client.patch(f"/api/users/{agent_user.pk}", {"role": "admin"}, format="json")
    remove = agent_client.delete(f"/api/users/{other_agent.pk}")

    assert (create.status_code, promote.status_code, remove.status_code) == (403, 403, 403)
    agent_user.refresh_from_db()
    other_agent.refresh_from_db()
    assert agent_user.role == "agent"
    assert other_agent.is_active is True
    assert not User.objects.filter(email="z@a.example").exists()


def test_outsider_gets_404_and_changes_nothing(outsider_client, agent_user):
    url = f"/api/users/{agent_user.pk}"

    responses = [
        outsider_client.get(url),
        outsider_client.patch(url, {"role": "admin", "name": "Hacked"}, format="json"),
        outsider_client.put(url, {"role": "admin"}, format="json"),
        outsider_client.delete(url),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    assert all(r.json()["error"]["code"] == "not_found" for r in responses)
    agent_user.refresh_from_db()
    assert (agent_user.role, agent_user.name, agent_user.is_active) == ("agent", "Aldo Agent", True)


def test_unknown_and_malformed_ids_are_404(admin_client):
    assert admin_client.get(f"/api/users/{uuid.uuid4()}").status_code == 404
    assert admin_client.get("/api/users/not-a-uuid").status_code == 404
