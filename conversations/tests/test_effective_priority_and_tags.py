"""One rule for priority and tags: the AI's until an agent sets them. Filters, list badges and
the fields the API returns all read it; PUT honours every field it accepts or names the rest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assistants.tests.factories import AssistantFactory
from conversations import services
from conversations.models import Conversation, Event, Tag
from conversations.tests.factories import ConversationFactory
from flame.testing import statement_verbs

pytestmark = pytest.mark.django_db


def analyse(conversation, priority: str, tags: list[str], summary: str = "Resumen") -> None:
    services.conversation_record_analysis(
        conversation_id=conversation.pk,
        summary=summary,
        priority=priority,
        tags=tags,
        analyzed_at=timezone.now(),
    )


def ids(client, query: str) -> list[str]:
    response = client.get(f"/api/conversations?{query}")
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def put(client, conversation, **body):
    return client.patch(f"/api/conversations/{conversation.pk}", body, format="json")


@pytest.fixture
def conversation(workspace):
    return ConversationFactory(workspace=workspace)


# --- priority ------------------------------------------------------------------------------------


def test_the_ais_priority_is_the_conversations_until_an_agent_sets_one(admin_client, conversation):
    analyse(conversation, "high", [])
    assert ids(admin_client, "priority=high") == [str(conversation.pk)]

    response = put(admin_client, conversation, priority="low")
    analyse(conversation, "urgent", [])

    assert response.json()["priority_set_by_agent"] is True
    conversation.refresh_from_db()
    assert (conversation.priority, conversation.ai_priority) == ("low", "urgent")
    assert ids(admin_client, "priority=urgent") == []
    assert ids(admin_client, "priority=low") == [str(conversation.pk)]


def test_a_null_priority_gives_it_back_to_the_ai(admin_client, conversation):
    analyse(conversation, "urgent", [])
    put(admin_client, conversation, priority="low")

    response = put(admin_client, conversation, priority=None)

    assert response.status_code == 200
    assert (response.json()["priority"], response.json()["priority_set_by_agent"]) == (
        "urgent",
        False,
    )


def test_before_any_analysis_the_priority_is_medium(admin_client, conversation):
    put(admin_client, conversation, priority="high")

    response = put(admin_client, conversation, priority=None)

    assert response.json()["priority"] == "medium"


def test_an_analysis_that_changes_the_priority_updates_the_lists(agent_user, workspace):
    conversation = ConversationFactory(workspace=workspace, assigned_agent=agent_user)

    analyse(conversation, "high", [])
    analyse(conversation, "high", [], summary="Otra vez")

    kinds = list(Event.objects.values_list("kind", flat=True))
    assert kinds == [
        "conversation:updated",
        "conversation:activity",  # the history line: the AI set the priority
        "conversation:ai:update",
        "conversation:ai:update",
    ]
    line = Event.objects.get(kind="conversation:activity").payload["activity"]
    assert line == {"kind": "priority", "by": None, "priority": "high", "ai": True}
    updated = Event.objects.get(kind="conversation:updated")
    assert updated.payload["conversation"]["priority"] == "high"
    assert updated.assigned_agent_id == agent_user.pk


# --- tags ----------------------------------------------------------------------------------------


def test_the_ais_tags_are_the_conversations_until_an_agent_edits_them(
    admin_client, workspace, conversation
):
    analyse(conversation, "medium", ["shipping", "refund"])

    assert ids(admin_client, "tag=shipping") == [str(conversation.pk)]
    shipping = Tag.objects.get(workspace=workspace, name="shipping")
    assert ids(admin_client, f"tag={shipping.pk}") == [str(conversation.pk)]

    put(admin_client, conversation, tags=["vip"])
    analyse(conversation, "medium", ["shipping", "complaint"])

    conversation.refresh_from_db()
    assert [tag.name for tag in conversation.tags.all()] == ["vip"]
    assert conversation.ai_tags == ["shipping", "complaint"]
    assert ids(admin_client, "tag=shipping") == []


def test_a_new_analysis_replaces_the_ais_tags(admin_client, conversation):
    analyse(conversation, "medium", ["shipping"])
    analyse(conversation, "medium", ["refund"])

    assert ids(admin_client, "tag=shipping") == []
    assert ids(admin_client, "tag=refund") == [str(conversation.pk)]


def test_null_tags_give_them_back_to_the_ai(admin_client, conversation):
    analyse(conversation, "medium", ["shipping"])
    put(admin_client, conversation, tags=["vip"])

    response = put(admin_client, conversation, tags=None)

    body = response.json()
    assert ([tag["name"] for tag in body["tags"]], body["tags_set_by_agent"]) == (
        ["shipping"],
        False,
    )


def test_list_badges_show_the_ais_priority_and_tags(client, admin_user, conversation):
    analyse(conversation, "urgent", ["refund"])
    client.force_login(admin_user)

    html = client.get("/inbox/").content.decode()

    assert 'data-testid="conversation-priority">Urgente<' in html
    assert ">refund</span>" in html


# --- filters -------------------------------------------------------------------------------------


def test_the_ai_priority_filter(admin_client, workspace):
    analysed = ConversationFactory(workspace=workspace)
    analyse(analysed, "high", [])
    overridden = ConversationFactory(
        workspace=workspace, last_message_at=timezone.now() - timedelta(minutes=1)
    )
    analyse(overridden, "high", [])
    put(admin_client, overridden, priority="low")
    waiting = ConversationFactory(
        workspace=workspace, last_message_at=timezone.now() - timedelta(minutes=2)
    )

    assert ids(admin_client, "ai_priority=high") == [str(analysed.pk), str(overridden.pk)]
    assert ids(admin_client, "ai_priority=none") == [str(waiting.pk)]
    assert ids(admin_client, "ai_priority=high,none") == [
        str(analysed.pk),
        str(overridden.pk),
        str(waiting.pk),
    ]
    assert ids(admin_client, "priority=high") == [str(analysed.pk)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("ai_priority=extreme", "ai_priority"),
        ("ai_priority=low,critical", "ai_priority"),
        ("sort=new", "sort"),
    ],
)
def test_unknown_filters_are_400_naming_them(admin_client, query, field):
    response = admin_client.get(f"/api/conversations?{query}")

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == [field]


# --- PUT honours what it accepts, names the rest -------------------------------------------------


def test_put_assigns_the_assistant(admin_client, workspace, conversation):
    assistant = AssistantFactory(workspace=workspace, name="Recepción")

    response = put(admin_client, conversation, assigned_assistant_id=str(assistant.pk))

    assert response.status_code == 200
    assert response.json()["assigned_assistant"]["name"] == "Recepción"
    conversation.refresh_from_db()
    assert conversation.assigned_assistant_id == assistant.pk

    response = put(admin_client, conversation, assigned_assistant_id=None)

    assert response.json()["assigned_assistant_id"] is None


def test_put_assigns_the_agent(admin_client, agent_user, conversation):
    response = put(admin_client, conversation, assigned_agent_id=str(agent_user.pk))

    assert response.json()["assigned_agent_id"] == str(agent_user.pk)


def test_put_with_another_workspaces_assistant_is_400_and_changes_nothing(
    admin_client, outsider, conversation
):
    foreign = AssistantFactory(workspace=outsider.workspace)

    response = put(
        admin_client, conversation, priority="urgent", assigned_assistant_id=str(foreign.pk)
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["assigned_assistant_id"]
    conversation.refresh_from_db()
    assert (conversation.priority, conversation.assigned_assistant_id) == ("medium", None)
    assert Event.objects.count() == 0


def test_an_agent_cannot_hand_a_conversation_to_a_colleague_by_put(
    agent_client, agent_user, other_agent, workspace
):
    conversation = ConversationFactory(workspace=workspace, assigned_agent=agent_user)

    response = put(
        agent_client, conversation, priority="urgent", assigned_agent_id=str(other_agent.pk)
    )

    assert response.status_code == 403
    conversation.refresh_from_db()
    assert (conversation.priority, conversation.assigned_agent_id) == ("medium", agent_user.pk)


def test_put_with_unknown_fields_is_400_naming_them_and_changes_nothing(admin_client, conversation):
    response = put(admin_client, conversation, priority="urgent", ai_summary="x", owner="y")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "ai_summary": ["Unknown field: not accepted here."],
        "owner": ["Unknown field: not accepted here."],
    }
    assert Conversation.objects.get().priority == "medium"


def test_outsider_put_is_404_and_changes_nothing(outsider_client, workspace, conversation):
    assistant = AssistantFactory(workspace=workspace)

    response = put(
        outsider_client, conversation, priority="urgent", assigned_assistant_id=str(assistant.pk)
    )

    assert response.status_code == 404
    conversation.refresh_from_db()
    assert (conversation.priority, conversation.assigned_assistant_id) == ("medium", None)


def test_an_analysis_that_only_rewords_the_summary_is_four_statements(conversation):
    analyse(conversation, "high", ["Envíos", "refund"])
    Event.objects.all().delete()

    with CaptureQueriesContext(connection) as writing:
        analyse(conversation, "high", ["envíos ", "REFUND"], summary="Sigue esperando")

    # the row, its tags, the ai_* fields, the event
    assert statement_verbs(writing) == ["SELECT", "SELECT", "UPDATE", "INSERT"]
    assert list(Event.objects.values_list("kind", flat=True)) == ["conversation:ai:update"]
    conversation.refresh_from_db()
    assert sorted(conversation.tags.values_list("name", flat=True)) == ["Envíos", "refund"]
    assert conversation.ai_summary == "Sigue esperando"


def _chunk(conversations, tags: list[str], priority: str = "high") -> None:
    with transaction.atomic():
        locked = services.conversations_lock_for_analysis([c.pk for c in conversations])
        services.conversations_record_analyses(
            locked=locked,
            writes=[
                services.AnalysisWrite(c.pk, summary="S", priority=priority, tags=tags)
                for c in conversations
            ],
            analyzed_at=timezone.now(),
        )


def test_a_chunk_of_analyses_costs_the_same_statements_for_two_conversations_or_six(workspace):
    few = [ConversationFactory(workspace=workspace) for _ in range(2)]
    many = [ConversationFactory(workspace=workspace) for _ in range(6)]
    _chunk(few + many, ["Envíos", "pedido"])
    _chunk(few[:1], ["factura"])  # every tag exists now
    Event.objects.all().delete()

    with CaptureQueriesContext(connection) as two:
        _chunk(few, ["factura", "pedido"], priority="urgent")
    with CaptureQueriesContext(connection) as six:
        _chunk(many, ["factura", "pedido"], priority="urgent")

    assert len(six.captured_queries) == len(two.captured_queries)
    for conversation in many:
        conversation.refresh_from_db()
        assert sorted(conversation.tags.values_list("name", flat=True)) == ["factura", "pedido"]
        assert (conversation.priority, conversation.ai_summary) == ("urgent", "S")
        kinds = list(
            Event.objects.filter(conversation_id=conversation.pk)
            .order_by("id")
            .values_list("kind", flat=True)
        )
        # the change, its two history lines (priority, tags), then the analysis itself
        assert kinds == [
            "conversation:updated",
            Event.ACTIVITY,
            Event.ACTIVITY,
            "conversation:ai:update",
        ]
    line = Event.objects.filter(kind=Event.ACTIVITY, conversation_id=many[0].pk).last()
    assert line.payload["activity"]["ai"] is True
    assert line.payload["activity"]["by"] is None


def test_a_chunk_leaves_an_agents_tags_and_priority_alone(admin_client, workspace):
    theirs = ConversationFactory(workspace=workspace)
    put(admin_client, theirs, priority="low", tags=["vip"])

    _chunk([theirs], ["envíos"], priority="urgent")

    theirs.refresh_from_db()
    assert sorted(theirs.tags.values_list("name", flat=True)) == ["vip"]
    assert (theirs.priority, theirs.ai_priority, theirs.ai_tags) == ("low", "urgent", ["envíos"])
