"""Saved replies: the workspace's (kept by admins) and each member's own."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from workbench.models import SavedReply

pytestmark = pytest.mark.django_db


@pytest.fixture
def replies(workspace, agent_user, other_agent):
    return {
        "shared": SavedReply.objects.create(
            workspace=workspace,
            short_code="envio",
            content="Enviamos en 24 h, {{contact.first_name}}.",
        ),
        "mine": SavedReply.objects.create(
            workspace=workspace, owner=agent_user, short_code="bye", content="Bye, {{agent.name}}!"
        ),
        "theirs": SavedReply.objects.create(
            workspace=workspace, owner=other_agent, short_code="hola", content="Hola"
        ),
    }


def test_a_member_sees_the_workspaces_replies_and_their_own(agent_client, replies):
    listed = agent_client.get("/api/saved-replies").json()

    assert [(r["short_code"], r["personal"]) for r in listed] == [("bye", True), ("envio", False)]


def test_search_matches_code_or_text_ignoring_accents(agent_client, replies):
    assert [
        r["short_code"] for r in agent_client.get("/api/saved-replies?search=ENVÍO").json()
    ] == ["envio"]
    assert [r["short_code"] for r in agent_client.get("/api/saved-replies?search=24").json()] == [
        "envio"
    ]


def test_a_member_keeps_their_own_replies(agent_client, agent_user, replies):
    created = agent_client.post(
        "/api/saved-replies", {"short_code": "/gracias", "content": "¡Gracias! 🙏"}, "json"
    )
    edited = agent_client.patch(
        f"/api/saved-replies/{created.json()['id']}", {"content": "Thank you"}, "json"
    )
    deleted = agent_client.delete(f"/api/saved-replies/{replies['mine'].pk}")

    assert created.status_code == 201
    assert (created.json()["short_code"], created.json()["personal"]) == ("gracias", True)
    assert edited.json()["content"] == "Thank you"
    assert deleted.status_code == 204
    assert list(
        SavedReply.objects.filter(owner=agent_user).values_list("short_code", flat=True)
    ) == ["gracias"]


def test_only_admins_keep_the_workspaces_replies(agent_client, admin_client, replies):
    by_agent = agent_client.post(
        "/api/saved-replies", {"short_code": "x", "content": "y", "personal": False}, "json"
    )
    edit_by_agent = agent_client.patch(
        f"/api/saved-replies/{replies['shared'].pk}", {"content": "changed"}, "json"
    )
    by_admin = admin_client.post(
        "/api/saved-replies", {"short_code": "x", "content": "y", "personal": False}, "json"
    )

    assert (by_agent.status_code, edit_by_agent.status_code, by_admin.status_code) == (
        403,
        403,
        201,
    )
    assert SavedReply.objects.get(pk=replies["shared"].pk).content.startswith("Enviamos")


def test_someone_elses_reply_does_not_exist_for_you(agent_client, outsider_client, replies):
    theirs = replies["theirs"]

    assert agent_client.get(f"/api/saved-replies/{theirs.pk}").status_code == 404
    assert agent_client.delete(f"/api/saved-replies/{theirs.pk}").status_code == 404
    assert (
        outsider_client.patch(
            f"/api/saved-replies/{replies['shared'].pk}", {"content": "x"}, "json"
        ).status_code
        == 404
    )
    assert outsider_client.get("/api/saved-replies").json() == []
    assert SavedReply.objects.count() == 3


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"short_code": "two words", "content": "x"}, 400, "short_code"),
        ({"short_code": "x", "content": "   "}, 400, "content"),
        ({"short_code": "x"}, 400, "content"),
        ({"short_code": "x", "content": "y" * 4097}, 400, "content"),
        ({"short_code": "BYE", "content": "again"}, 409, "short_code"),
        ({"short_code": "x", "content": "y", "owner": "z"}, 400, "owner"),
    ],
)
def test_bad_replies_are_refused_and_nothing_is_written(agent_client, replies, body, status, field):
    response = agent_client.post("/api/saved-replies", body, format="json")

    assert response.status_code == status
    assert field in response.json()["error"]["details"]
    assert SavedReply.objects.count() == 3


def test_a_personal_code_may_repeat_a_workspace_code(agent_client, replies):
    response = agent_client.post(
        "/api/saved-replies", {"short_code": "envio", "content": "My own shipping text"}, "json"
    )

    assert response.status_code == 201


def test_the_list_costs_the_same_for_one_and_many(agent_client, workspace, agent_user):
    def queries_for(count: int) -> int:
        for index in range(count):
            SavedReply.objects.create(
                workspace=workspace, owner=agent_user, short_code=f"r{count}-{index}", content="x"
            )
        with CaptureQueriesContext(connection) as queries:
            assert agent_client.get("/api/saved-replies").status_code == 200
        return len(queries)

    assert queries_for(1) == queries_for(12)
