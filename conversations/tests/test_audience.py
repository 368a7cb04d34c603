"""The audience rule is written once (conversations.audience); these tests hold its three uses
to each other: the rows a member reads, the events they catch up on, and what reaches their
sockets live."""

from __future__ import annotations

import itertools

import pytest

from accounts.switches import AGENTS_SEE_UNASSIGNED
from accounts.tests.factories import UserFactory
from conversations import audience
from conversations.models import Conversation, Event
from conversations.selectors import conversation_list_for, event_list_for
from conversations.tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db


def _viewers(workspace):
    admin = UserFactory(workspace=workspace, role="admin")
    agent = UserFactory(workspace=workspace, role="agent")
    colleague = UserFactory(workspace=workspace, role="agent")
    return admin, agent, colleague


def _events(workspace, admin, agent, colleague) -> list[Event]:
    shapes = [
        {"audience": Event.Audience.USER, "user_id": agent.pk},
        {"audience": Event.Audience.USER, "user_id": colleague.pk},
        {"audience": Event.Audience.WORKSPACE},
        {"audience": Event.Audience.ADMINS},
        {"audience": Event.Audience.CONVERSATION, "assigned_agent_id": agent.pk},
        {"audience": Event.Audience.CONVERSATION, "assigned_agent_id": colleague.pk},
        {"audience": Event.Audience.CONVERSATION, "assigned_agent_id": admin.pk},
        {"audience": Event.Audience.CONVERSATION, "assigned_agent_id": None},
    ]
    return [Event.objects.create(workspace=workspace, kind="test", **shape) for shape in shapes]


def _reaches(event: Event, viewer: audience.Viewer) -> bool:
    return bool(set(audience.event_groups(event)) & set(audience.groups_for(viewer)))


@pytest.mark.parametrize("queue_on", [False, True])
def test_catch_up_returns_exactly_what_the_sockets_receive_live(workspace, outsider, queue_on):
    # given: every shape of event, and each kind of member, with the queue switch on or off
    workspace.settings = {AGENTS_SEE_UNASSIGNED.key: queue_on}
    workspace.save()
    members = _viewers(workspace)
    events = [*_events(workspace, *members), *_events(outsider.workspace, *[outsider] * 3)]

    for member in [*members, outsider]:
        viewer = audience.Viewer.of(member)
        # when
        caught_up = set(event_list_for(user=member, after=0).values_list("pk", flat=True))
        live = {event.pk for event in events if _reaches(event, viewer)}
        # then
        assert caught_up == live, (member.role, queue_on)


@pytest.mark.parametrize("queue_on", [False, True])
def test_a_member_reads_the_conversations_whose_events_reach_them(workspace, queue_on):
    workspace.settings = {AGENTS_SEE_UNASSIGNED.key: queue_on}
    workspace.save()
    admin, agent, colleague = _viewers(workspace)
    conversations = [
        ConversationFactory(workspace=workspace, assigned_agent=assignee)
        for assignee in (admin, agent, colleague, None)
    ]

    for member in (admin, agent, colleague):
        viewer = audience.Viewer.of(member)
        readable = set(conversation_list_for(user=member).values_list("pk", flat=True))
        reached = {
            conversation.pk
            for conversation in conversations
            if _reaches(_conversation_event(conversation), viewer)
        }
        assert readable == reached, (member.role, queue_on)


def _conversation_event(conversation: Conversation) -> Event:
    return Event(
        workspace_id=conversation.workspace_id,
        audience=Event.Audience.CONVERSATION,
        assigned_agent_id=conversation.assigned_agent_id,
    )


def test_deactivated_or_workspaceless_users_see_nothing(workspace):
    gone = UserFactory(workspace=workspace, is_active=False)
    operator = UserFactory(workspace=None, is_superuser=True, is_staff=True)
    ConversationFactory(workspace=workspace)

    for user in (gone, operator):
        assert audience.Viewer.of(user) is None
        assert not conversation_list_for(user=user).exists()
        assert not event_list_for(user=user, after=0).exists()


def test_each_group_name_names_one_thing(workspace):
    admin, agent, _ = _viewers(workspace)
    names = [
        *audience.groups_for(audience.Viewer.of(admin)),
        *audience.groups_for(audience.Viewer.of(agent)),
    ]
    for first, second in itertools.combinations(set(names), 2):
        assert first != second
    assert audience.members_group(workspace.pk) in names
