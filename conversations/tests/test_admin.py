"""Django admin edits of a conversation go through the services: events, the satisfaction
survey on resolve, the assignee's workspace check; a refused edit changes nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.tests.factories import UserFactory
from assistants.tests.factories import AssistantFactory
from conversations.models import Conversation, Event, Message
from conversations.tests.factories import ConversationFactory, MessageFactory, TagFactory
from flame.testing import admin_change_form_data
from integrations.tests.factories import IntegrationFactory
from satisfaction import csat
from satisfaction.models import SatisfactionSurvey

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db):
    """A platform operator: a superuser of no workspace."""
    return UserFactory(workspace=None, is_staff=True, is_superuser=True, email="op@flame.example")


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def conversation(workspace, agent_user):
    """Open, assigned to an agent, answered once, on a channel of a workspace with surveys on."""
    workspace.settings = {csat.SURVEY_SETTING: True}
    workspace.save(update_fields=["settings"])
    now = timezone.now()
    conversation = ConversationFactory(
        workspace=workspace,
        integration=IntegrationFactory(workspace=workspace),
        assigned_agent=agent_user,
        last_customer_message_at=now,
        first_response_at=now,
    )
    MessageFactory(conversation=conversation, content="¿Tienen envíos?")
    return conversation


def url(conversation: Conversation) -> str:
    return f"/admin/conversations/conversation/{conversation.pk}/change/"


def _events(conversation: Conversation) -> list[tuple[str, str | None]]:
    rows = Event.objects.filter(conversation_id=conversation.pk).order_by("id")
    # A history line names what happened; the other events carry the conversation's status.
    return [
        (event.kind, event.payload.get("activity", {}).get("kind"))
        if event.kind == Event.ACTIVITY
        else (event.kind, event.payload.get("conversation", {}).get("status"))
        for event in rows
    ]


def test_change_page_shows_only_the_service_backed_fields_as_editable(
    operator_client, conversation
):
    page = operator_client.get(url(conversation))

    assert page.status_code == 200
    form = page.context["adminform"].form
    assert sorted(form.fields) == [
        "assigned_agent",
        "assigned_assistant",
        "priority",
        "status",
        "tags",
    ]


def test_resolving_in_admin_records_the_event_and_sends_the_survey(
    operator_client, conversation, agent_user
):
    data = admin_change_form_data(operator_client, url(conversation), status="resolved")

    response = operator_client.post(url(conversation), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    conversation.refresh_from_db()
    assert conversation.status == "resolved"
    assert conversation.resolved_at is not None
    survey = SatisfactionSurvey.objects.get()
    assert (survey.conversation_id, survey.agent_id) == (conversation.pk, agent_user.pk)
    question = Message.objects.get(pk=survey.message_id)
    assert (question.sender, question.type) == ("assistant", "interactive")
    # The resolution and its history line, then the survey's question arriving in the thread.
    assert _events(conversation) == [
        ("conversation:updated", "resolved"),
        ("conversation:activity", "resolved"),
        ("message:new", "resolved"),
        ("conversation:activity", "survey_sent"),
    ]
    assert Event.objects.get(kind="message:new").payload["message"]["id"] == str(question.pk)


def test_assigning_in_admin_tells_the_old_and_the_new_assignee(
    operator_client, conversation, agent_user, other_agent
):
    data = admin_change_form_data(
        operator_client, url(conversation), assigned_agent=str(other_agent.pk)
    )

    response = operator_client.post(url(conversation), data)

    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.assigned_agent_id == other_agent.pk
    events = Event.objects.filter(workspace_id=conversation.workspace_id).order_by("id")
    assert [(event.kind, event.user_id, event.assigned_agent_id) for event in events] == [
        ("conversation:updated", None, other_agent.pk),
        ("conversation:removed", agent_user.pk, None),
        ("conversation:activity", None, other_agent.pk),
        ("notification:new", other_agent.pk, None),
    ]
    assert SatisfactionSurvey.objects.count() == 0


def test_tags_and_priority_in_admin_go_through_the_service(operator_client, conversation):
    shipping = TagFactory(workspace=conversation.workspace, name="envíos")
    data = admin_change_form_data(
        operator_client, url(conversation), priority="urgent", tags=[str(shipping.pk)]
    )

    response = operator_client.post(url(conversation), data)

    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.priority == "urgent"
    assert list(conversation.tags.values_list("name", flat=True)) == ["envíos"]
    event = Event.objects.get(conversation_id=conversation.pk, kind="conversation:updated")
    assert event.payload["conversation"]["priority"] == "urgent"
    assert [tag["name"] for tag in event.payload["conversation"]["tags"]] == ["envíos"]


def test_another_workspaces_agent_is_refused_and_nothing_changes(
    operator_client, conversation, agent_user, outsider
):
    data = admin_change_form_data(
        operator_client, url(conversation), status="resolved", assigned_agent=str(outsider.pk)
    )

    response = operator_client.post(url(conversation), data)

    assert response.status_code == 200  # the form again, with the refusal on the field
    form = response.context["adminform"].form
    assert form.errors == {
        "assigned_agent": ["Choose an active agent of this conversation's workspace."]
    }
    assert response.context["adminform"].form["status"].value() == "resolved"  # input kept
    conversation.refresh_from_db()
    assert (conversation.status, conversation.assigned_agent_id) == ("active", agent_user.pk)
    assert conversation.resolved_at is None
    assert Event.objects.count() == 0
    assert SatisfactionSurvey.objects.count() == 0


def test_another_workspaces_assistant_is_refused(operator_client, conversation, outsider):
    foreign = AssistantFactory(workspace=outsider.workspace)
    data = admin_change_form_data(
        operator_client, url(conversation), assigned_assistant=str(foreign.pk)
    )

    response = operator_client.post(url(conversation), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "assigned_assistant": ["Choose an assistant of this conversation's workspace."]
    }
    conversation.refresh_from_db()
    assert conversation.assigned_assistant_id is None
    assert Event.objects.count() == 0


def test_reopening_beside_a_newer_open_conversation_is_refused(operator_client, conversation):
    resolved = ConversationFactory(
        workspace=conversation.workspace,
        integration=conversation.integration,
        contact=conversation.contact,
        status="resolved",
    )
    data = admin_change_form_data(operator_client, url(resolved), status="active")

    response = operator_client.post(url(resolved), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "This customer already has an open conversation on this channel."
    ]
    resolved.refresh_from_db()
    assert resolved.status == "resolved"
    assert Event.objects.count() == 0


def test_staff_without_operator_rights_cannot_edit_through_admin(client, conversation):
    staff = UserFactory(workspace=None, is_staff=True, email="staff@flame.example")
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_conversation", "change_conversation"])
    )
    client.force_login(staff)
    data = admin_change_form_data(client, url(conversation), status="resolved")

    response = client.post(url(conversation), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "Only platform operators can do this."
    ]
    conversation.refresh_from_db()
    assert conversation.status == "active"
    assert Event.objects.count() == 0


def test_admin_cannot_add_conversations(operator_client):
    assert operator_client.get("/admin/conversations/conversation/add/").status_code == 403


def test_deleting_in_admin_tells_the_inboxes(operator_client, conversation):
    response = operator_client.post(
        f"/admin/conversations/conversation/{conversation.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    event = Event.objects.get()
    assert (event.kind, event.conversation_id) == ("conversation:deleted", conversation.pk)


def test_bulk_delete_goes_through_the_service(operator_client, conversation, workspace):
    second = ConversationFactory(workspace=workspace)

    response = operator_client.post(
        "/admin/conversations/conversation/",
        {
            "action": "delete_selected",
            "_selected_action": [str(conversation.pk), str(second.pk)],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert Conversation.objects.count() == 0
    deleted = Event.objects.filter(kind="conversation:deleted")
    assert sorted(deleted.values_list("conversation_id", flat=True)) == sorted(
        [conversation.pk, second.pk]
    )
