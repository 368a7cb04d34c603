"""Every conversations endpoint against the four personas.

admin (workspace A), assigned agent (A, the conversation is theirs), other agent (A, not
theirs), outsider (admin of workspace B). Denied calls must also leave the data untouched.
"""

from __future__ import annotations

import pytest

from assistants.tests.factories import AssistantFactory
from conftest import api_client_for
from conversations.models import Contact, Conversation, Message, Tag
from conversations.tests.factories import ConversationFactory, MessageFactory, TagFactory

pytestmark = pytest.mark.django_db

PERSONAS = ("admin_user", "agent_user", "other_agent", "outsider")


@pytest.fixture
def conversation(workspace, agent_user):
    conversation = ConversationFactory(
        workspace=workspace, assigned_agent=agent_user, unread_count=3, status="active"
    )
    MessageFactory(conversation=conversation, content="Hola, ¿tienen envíos?")
    return conversation


@pytest.fixture
def client_as(request):
    def make(persona: str):
        return api_client_for(request.getfixturevalue(persona))

    return make


def _snapshot(conversation: Conversation) -> tuple:
    conversation.refresh_from_db()
    return (
        conversation.status,
        conversation.priority,
        conversation.assigned_agent_id,
        conversation.assigned_assistant_id,
        conversation.unread_count,
        Message.objects.filter(conversation=conversation).count(),
        sorted(conversation.tags.values_list("name", flat=True)),
    )


@pytest.mark.parametrize(
    ("persona", "visible"),
    [("admin_user", True), ("agent_user", True), ("other_agent", False), ("outsider", False)],
)
def test_list(client_as, conversation, persona, visible, other_agent, outsider):
    response = client_as(persona).get("/api/conversations")

    assert response.status_code == 200
    ids = [row["id"] for row in response.json()["results"]]
    assert ids == ([str(conversation.pk)] if visible else [])


@pytest.mark.parametrize(
    ("persona", "method", "path", "body", "expected"),
    [
        *[(p, "get", "", None, s) for p, s in zip(PERSONAS, (200, 200, 404, 404), strict=True)],
        *[
            (p, "patch", "", {"priority": "urgent", "tags": ["vip"]}, s)
            for p, s in zip(PERSONAS, (200, 200, 404, 404), strict=True)
        ],
        *[
            (p, "put", "", {"status": "pending"}, s)
            for p, s in zip(PERSONAS, (200, 200, 404, 404), strict=True)
        ],
        *[(p, "delete", "", None, s) for p, s in zip(PERSONAS, (204, 403, 404, 404), strict=True)],
        *[
            (p, "get", "/messages", None, s)
            for p, s in zip(PERSONAS, (200, 200, 404, 404), strict=True)
        ],
        *[
            (p, "post", "/messages", {"content": "Sí, enviamos a todo México"}, s)
            for p, s in zip(PERSONAS, (201, 201, 404, 404), strict=True)
        ],
        *[
            (p, "put", "/status", {"status": "resolved"}, s)
            for p, s in zip(PERSONAS, (200, 200, 404, 404), strict=True)
        ],
        *[
            (p, "post", "/read", None, s)
            for p, s in zip(PERSONAS, (200, 200, 404, 404), strict=True)
        ],
        *[
            (p, "post", "/assign", {"agent_id": None}, s)
            for p, s in zip(PERSONAS, (200, 403, 404, 404), strict=True)
        ],
    ],
)
def test_conversation_endpoints(
    client_as, conversation, other_agent, outsider, persona, method, path, body, expected
):
    before = _snapshot(conversation)
    url = f"/api/conversations/{conversation.pk}{path}"

    response = getattr(client_as(persona), method)(url, body, format="json")

    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json()["error"]["code"] in ("not_found", "permission_denied")
        assert Conversation.objects.filter(pk=conversation.pk).exists()
        assert _snapshot(conversation) == before


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("admin_user", 200), ("agent_user", 200), ("other_agent", 404), ("outsider", 404)],
)
def test_assign_assistant(
    client_as, conversation, workspace, other_agent, outsider, persona, expected
):
    assistant = AssistantFactory(workspace=workspace)

    response = client_as(persona).post(
        f"/api/conversations/{conversation.pk}/assign",
        {"assistant_id": str(assistant.pk)},
        format="json",
    )

    assert response.status_code == expected
    conversation.refresh_from_db()
    assert conversation.assigned_assistant_id == (assistant.pk if expected == 200 else None)


def test_outsider_cannot_inject_foreign_ids(client_as, conversation, outsider, workspace):
    foreign_assistant = AssistantFactory(workspace=outsider.workspace)
    admin = client_as("admin_user")

    agent = admin.post(
        f"/api/conversations/{conversation.pk}/assign",
        {"agent_id": str(outsider.pk)},
        format="json",
    )
    assistant = admin.post(
        f"/api/conversations/{conversation.pk}/assign",
        {"assistant_id": str(foreign_assistant.pk)},
        format="json",
    )

    assert agent.status_code == 400
    assert "agent_id" in agent.json()["error"]["details"]
    assert assistant.status_code == 400
    conversation.refresh_from_db()
    assert conversation.assigned_agent_id is not None
    assert conversation.assigned_agent_id != outsider.pk
    assert conversation.assigned_assistant_id is None


# --- tags ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("admin_user", 201), ("agent_user", 403), ("outsider", 201)],
)
def test_tag_create(client_as, workspace, outsider, agent_user, persona, expected):
    response = client_as(persona).post(
        "/api/tags", {"name": "vip", "color": "#ff0000"}, format="json"
    )

    assert response.status_code == expected
    if persona == "agent_user":
        assert Tag.objects.count() == 0


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("admin_user", 200), ("agent_user", 403), ("other_agent", 403), ("outsider", 404)],
)
def test_tag_update_and_delete(
    client_as, workspace, agent_user, other_agent, outsider, persona, expected
):
    tag = TagFactory(workspace=workspace, name="vip")
    client = client_as(persona)

    update = client.patch(f"/api/tags/{tag.pk}", {"name": "renamed"}, format="json")
    delete = client.delete(f"/api/tags/{tag.pk}")

    assert update.status_code == expected
    assert delete.status_code == (204 if expected == 200 else expected)
    if expected != 200:
        tag.refresh_from_db()
        assert tag.name == "vip"


def test_tag_list_is_per_workspace(client_as, workspace, outsider, agent_user):
    TagFactory(workspace=workspace, name="vip")
    TagFactory(workspace=outsider.workspace, name="secret-b")

    mine = client_as("agent_user").get("/api/tags").json()
    theirs = client_as("outsider").get("/api/tags").json()

    assert [t["name"] for t in mine] == ["vip"]
    assert [t["name"] for t in theirs] == ["secret-b"]


def test_duplicate_tag_is_409(client_as, workspace, admin_user):
    TagFactory(workspace=workspace, name="VIP")

    response = client_as("admin_user").post("/api/tags", {"name": "vip"}, format="json")

    assert response.status_code == 409
    assert Tag.objects.filter(workspace=workspace).count() == 1


# --- contacts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("admin_user", 200), ("agent_user", 200), ("other_agent", 404), ("outsider", 404)],
)
def test_contact_detail_and_update(
    client_as, conversation, other_agent, outsider, persona, expected
):
    contact = conversation.contact
    name = contact.name
    client = client_as(persona)

    detail = client.get(f"/api/contacts/{contact.pk}")
    update = client.patch(f"/api/contacts/{contact.pk}", {"name": "Renombrado"}, format="json")

    assert detail.status_code == expected
    assert update.status_code == expected
    contact.refresh_from_db()
    assert contact.name == ("Renombrado" if expected == 200 else name)


@pytest.mark.parametrize(
    ("persona", "count"),
    [("admin_user", 2), ("agent_user", 1), ("other_agent", 0), ("outsider", 0)],
)
def test_contact_list_scope(
    client_as, conversation, workspace, other_agent, outsider, persona, count
):
    ConversationFactory(workspace=workspace)  # unassigned: admins only

    response = client_as(persona).get("/api/contacts")

    assert response.status_code == 200
    assert len(response.json()["results"]) == count
    assert Contact.objects.count() == 2


def test_admin_pages_for_conversations(client, conversation, db):
    from accounts.tests.factories import UserFactory

    operator = UserFactory(workspace=None, is_staff=True, is_superuser=True)
    client.force_login(operator)

    pages = [
        "/admin/conversations/conversation/?status__exact=active&q=env",
        f"/admin/conversations/conversation/{conversation.pk}/change/",
        f"/admin/conversations/contact/{conversation.contact_id}/change/",
        "/admin/conversations/contact/?q=5215",
        "/admin/conversations/tag/",
        "/admin/conversations/message/?q=Hola",
        "/admin/conversations/event/",
        "/admin/integrations/integration/",
        "/admin/assistants/assistant/",
    ]

    assert [client.get(page).status_code for page in pages] == [200] * len(pages)
    detail = client.get(f"/admin/conversations/conversation/{conversation.pk}/change/")
    assert "Hola, ¿tienen envíos?" in detail.content.decode()
