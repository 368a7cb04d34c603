from __future__ import annotations

import re
import uuid

import pytest
from django.core import mail

from accounts.emails import password_token_for
from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

STRONG = "violet-Mango-42-river"

pytestmark = pytest.mark.django_db


def test_admin_lists_only_own_workspace_members(admin_client, admin_user, agent_user, outsider):
    response = admin_client.get("/api/users")

    assert response.status_code == 200
    emails = sorted(row["email"] for row in response.json()["results"])
    assert emails == ["admin@a.example", "agent@a.example"]


def test_a_password_chosen_by_the_admin_is_refused_by_name(admin_client, admin_user):
    response = admin_client.post(
        "/api/users",
        {"email": "New@A.example", "name": "Nico", "role": "agent", "password": "quiet-Lake-2024"},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["password"]
    assert not User.objects.filter(email="new@a.example").exists()


def _invite(client, django_capture_on_commit_callbacks, email, name="Ivo"):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            "/api/users", {"email": email, "name": name, "role": "agent"}, format="json"
        )


def test_admin_invites_a_pending_member_who_chooses_a_password(
    admin_client, admin_user, anonymous_client, django_capture_on_commit_callbacks
):
    # when
    response = _invite(admin_client, django_capture_on_commit_callbacks, "invitee@a.example")

    # then: pending until the invitee sets a password from the e-mailed link
    assert response.status_code == 201
    assert response.json()["is_pending"] is True
    invited = User.objects.get(email="invitee@a.example")
    assert (invited.is_pending, invited.has_usable_password()) == (True, False)
    assert len(mail.outbox) == 1
    token = re.search(r"/reset-password/([^/\s]+)/", mail.outbox[0].body).group(1)
    accepted = anonymous_client.post(
        "/api/auth/reset-password", {"token": token, "password": STRONG}, format="json"
    )
    assert accepted.status_code == 200
    invited.refresh_from_db()
    assert invited.is_pending is False
    login = anonymous_client.post(
        "/api/auth/login", {"email": "invitee@a.example", "password": STRONG}, format="json"
    )
    assert login.status_code == 200


def test_inviting_an_address_used_in_another_workspace_reveals_nothing(
    admin_client, admin_user, outsider, django_capture_on_commit_callbacks
):
    # when: the same request for an address of workspace B and for a free one
    taken = _invite(admin_client, django_capture_on_commit_callbacks, "OUTSIDER@b.example", "X")
    free = _invite(admin_client, django_capture_on_commit_callbacks, "nobody@c.example", "X")

    # then: the answers differ only in the values the admin sent
    def shape(response):
        body = response.json()
        return response.status_code, sorted(body), body["is_pending"], body["is_active"]

    assert shape(taken) == shape(free) == (201, sorted(free.json()), True, True)
    # the outsider's own account is untouched, and only its owner hears why they cannot join
    outsider.refresh_from_db()
    assert (outsider.workspace_id, outsider.is_pending) != (admin_user.workspace_id, True)
    warning = next(message for message in mail.outbox if message.to == ["outsider@b.example"])
    assert "/reset-password/" not in warning.body


def test_an_invitation_to_a_taken_address_cannot_be_accepted(
    admin_client, admin_user, outsider, anonymous_client, django_capture_on_commit_callbacks
):
    _invite(admin_client, django_capture_on_commit_callbacks, "outsider@b.example")
    pending = User.objects.get(email="outsider@b.example", is_pending=True)

    response = anonymous_client.post(
        "/api/auth/reset-password",
        {"token": password_token_for(pending), "password": STRONG},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "email_taken"
    pending.refresh_from_db()
    assert pending.is_pending is True
    outsider.refresh_from_db()
    assert outsider.check_password(DEFAULT_PASSWORD)


def test_inviting_a_member_of_this_workspace_again_is_409(admin_client, agent_user):
    response = admin_client.post(
        "/api/users", {"email": "AGENT@a.example", "name": "Dup", "role": "agent"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "email_taken"
    assert User.objects.filter(email="agent@a.example").count() == 1


def test_a_pending_invitee_cannot_sign_in_or_reset_a_password(
    admin_client, admin_user, anonymous_client, django_capture_on_commit_callbacks
):
    _invite(admin_client, django_capture_on_commit_callbacks, "invitee@a.example")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        anonymous_client.post(
            "/api/auth/forgot-password", {"email": "invitee@a.example"}, format="json"
        )

    assert mail.outbox == []


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
