"""The history lines of a conversation, from the event log: recorded with each change, listed
for the thread, kept past the event retention, removed with the conversation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.switches import CSAT_SURVEY
from assistants.tests.factories import AssistantFactory
from conversations import services
from conversations.models import Conversation, Event
from conversations.tests.factories import ConversationFactory, MessageFactory
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db


def _lines(client, conversation) -> list[dict]:
    response = client.get(f"/api/conversations/{conversation.pk}/activity")
    assert response.status_code == 200
    return [item["activity"] for item in response.json()]


def test_every_kind_of_change_writes_its_line_in_order(
    admin_client, admin_user, agent_user, workspace
):
    conversation = ConversationFactory(workspace=workspace)
    admin = {"id": str(admin_user.pk), "name": "Ana Admin"}
    aldo = {"id": str(agent_user.pk), "name": "Aldo Agent"}

    def now():  # the conversation as an API request loads it
        return Conversation.objects.get(pk=conversation.pk)

    services.conversation_assign(by=admin_user, conversation=now(), agent=agent_user)
    services.conversation_update(
        by=admin_user, conversation=now(), priority="urgent", tags=["vip", "refund"]
    )
    services.conversation_update(by=admin_user, conversation=now(), tags=["vip"])
    services.conversation_snooze(by=admin_user, conversation=now(), until=None)
    services.conversation_set_status(by=admin_user, conversation=now(), status="resolved")
    services.conversation_set_status(by=admin_user, conversation=now(), status="active")
    services.conversation_assign(by=admin_user, conversation=now(), agent=None)

    assert _lines(admin_client, conversation) == [
        {"kind": "assigned", "by": admin, "agent": aldo, "previous": None},
        {"kind": "priority", "by": admin, "priority": "urgent"},
        {"kind": "tags", "by": admin, "added": ["refund", "vip"], "removed": []},
        {"kind": "tags", "by": admin, "added": [], "removed": ["refund"]},
        {"kind": "snoozed", "by": admin, "until": None},
        {"kind": "resolved", "by": admin},  # resolving also ended the snooze: one line
        {"kind": "reopened", "by": admin, "status": "active"},
        {"kind": "unassigned", "by": admin, "agent": aldo},
    ]


def test_a_hand_off_and_a_survey_are_lines_too(admin_client, admin_user, workspace):
    workspace.language = "en"
    workspace.settings = {CSAT_SURVEY.key: True}
    workspace.save()
    channel = IntegrationFactory(workspace=workspace, platform="sandbox")
    assistant = AssistantFactory(workspace=workspace, name="Front desk")
    conversation = ConversationFactory(workspace=workspace, integration=channel)
    MessageFactory(conversation=conversation, content="hola")
    services.message_send_agent(
        by=admin_user, conversation=conversation, draft=services.OutboundDraft(content="¡Hola!")
    )

    services.conversation_hand_off(
        conversation=conversation, assistant=assistant, reason="no_match"
    )
    services.conversation_set_status(by=admin_user, conversation=conversation, status="resolved")

    lines = _lines(admin_client, conversation)
    assert lines[0] == {
        "kind": "handoff",
        "by": None,
        "reason": "no_match",
        "assistant": {"id": str(assistant.pk), "name": "Front desk"},
    }
    assert [line["kind"] for line in lines] == ["handoff", "resolved", "survey_sent"]


def test_a_line_goes_to_whoever_sees_the_conversation_now(admin_user, agent_user, workspace):
    conversation = ConversationFactory(workspace=workspace)

    services.conversation_assign(by=admin_user, conversation=conversation, agent=agent_user)

    line = Event.objects.get(kind=Event.ACTIVITY)
    assert (line.audience, line.assigned_agent_id) == ("conversation", agent_user.pk)


def test_lines_outlive_the_event_retention_but_not_the_conversation(
    admin_user, agent_user, workspace
):
    conversation = ConversationFactory(workspace=workspace)
    services.conversation_assign(by=admin_user, conversation=conversation, agent=agent_user)
    Event.objects.update(created_at=timezone.now() - timedelta(days=30))

    services.events_prune(older_than_days=7)

    assert list(Event.objects.values_list("kind", flat=True)) == [Event.ACTIVITY]
    services.conversation_delete(by=admin_user, conversation=conversation)
    assert list(Event.objects.values_list("kind", flat=True)) == ["conversation:deleted"]


def test_the_history_is_as_private_as_the_conversation(
    agent_client, outsider_client, admin_user, other_agent, workspace
):
    theirs = ConversationFactory(workspace=workspace)
    services.conversation_assign(by=admin_user, conversation=theirs, agent=other_agent)

    assert agent_client.get(f"/api/conversations/{theirs.pk}/activity").status_code == 404
    assert outsider_client.get(f"/api/conversations/{theirs.pk}/activity").status_code == 404


def test_the_history_costs_the_same_for_few_and_many_lines(
    admin_client, admin_user, workspace, django_assert_num_queries
):
    conversation = ConversationFactory(workspace=workspace)
    for priority in ("low", "high", "urgent", "medium", "low"):
        services.conversation_update(by=admin_user, conversation=conversation, priority=priority)

    # the user, the conversation (scope), its tags, the lines
    with django_assert_num_queries(4):
        assert len(_lines(admin_client, conversation)) == 5
