"""Private notes: written in the thread, never sent, not a reply, found by search; @mentions."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.switches import AGENTS_SEE_UNASSIGNED
from accounts.tests.factories import UserFactory
from conversations import services
from conversations.mentions import mentioned
from conversations.models import Conversation, Event, Message
from conversations.tests.factories import ConversationFactory, MessageFactory
from integrations.tests.factories import IntegrationFactory
from workbench.models import Notification

pytestmark = pytest.mark.django_db

COUNTERS = (
    "unread_count",
    "message_count",
    "waiting_since",
    "first_response_at",
    "last_agent_reply_at",
    "last_message",
    "last_message_sender",
    "last_message_at",
)


@pytest.fixture
def waiting(workspace, agent_user):
    """A conversation on a channel whose customer waits for an answer."""
    channel = IntegrationFactory(workspace=workspace, platform="sandbox")
    conversation = ConversationFactory(
        workspace=workspace, integration=channel, assigned_agent=agent_user, unread_count=1
    )
    MessageFactory(conversation=conversation, content="¿Dónde está mi pedido?")
    conversation.refresh_from_db()
    return conversation


def _counters(conversation: Conversation) -> dict:
    conversation.refresh_from_db()
    return {name: getattr(conversation, name) for name in COUNTERS}


def test_a_note_is_kept_in_the_thread_but_never_sent_nor_counted_as_a_reply(
    agent_client, agent_user, waiting, django_capture_on_commit_callbacks
):
    before = _counters(waiting)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = agent_client.post(
            f"/api/conversations/{waiting.pk}/notes", {"content": "Call the warehouse"}
        )

    assert response.status_code == 201
    body = response.json()
    assert (body["sender"], body["private"], body["status"]) == ("agent", True, "sent")
    assert body["author_id"] == str(agent_user.pk)
    note = Message.objects.get(pk=body["id"])
    assert note.integration_id is None
    assert note.external_id is None
    assert _counters(waiting) == before  # still unread, still waiting, no first response
    # nothing was handed to delivery: the only callback publishes the event
    assert len(callbacks) == 1
    assert list(Event.objects.values_list("kind", flat=True)) == ["message:new"]


def test_a_private_message_through_the_messages_endpoint_is_a_note(agent_client, waiting):
    response = agent_client.post(
        f"/api/conversations/{waiting.pk}/messages",
        {"content": "Customer is a VIP", "private": True},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["private"] is True
    assert Message.objects.get(pk=response.json()["id"]).status == Message.Status.SENT


def test_notes_are_in_the_history_and_in_search(agent_client, waiting, agent_user):
    services.note_add(by=agent_user, conversation=waiting, content="Reembolso aprobado")

    history = agent_client.get(f"/api/conversations/{waiting.pk}/messages").json()["results"]
    found = agent_client.get("/api/conversations?search=reembolso").json()["results"]
    notes = agent_client.get(f"/api/conversations/{waiting.pk}/notes").json()["results"]

    assert [(m["content"], m["private"]) for m in history] == [
        ("Reembolso aprobado", True),
        ("¿Dónde está mi pedido?", False),
    ]
    assert [c["id"] for c in found] == [str(waiting.pk)]
    assert [n["content"] for n in notes] == ["Reembolso aprobado"]


@pytest.mark.parametrize(
    "body",
    [
        {"content": "   "},
        {"content": ""},
        {},
        {"content": "x" * 4097},
        {"content": "hola", "private": True},  # unknown field on /notes
    ],
)
def test_a_bad_note_is_refused_and_nothing_is_written(agent_client, waiting, body):
    response = agent_client.post(f"/api/conversations/{waiting.pk}/notes", body, format="json")

    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert not Message.objects.filter(private=True).exists()


def test_a_private_message_with_media_is_refused(agent_client, waiting):
    response = agent_client.post(
        f"/api/conversations/{waiting.pk}/messages",
        {"content": "see", "private": True, "media_url": "https://example.com/a.png"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"private": ["A note is text only."]}
    assert Message.objects.count() == 1


def test_another_workspaces_user_cannot_read_or_write_notes(outsider_client, waiting, agent_user):
    services.note_add(by=agent_user, conversation=waiting, content="secret")

    listed = outsider_client.get(f"/api/conversations/{waiting.pk}/notes")
    written = outsider_client.post(f"/api/conversations/{waiting.pk}/notes", {"content": "hi"})

    assert (listed.status_code, written.status_code) == (404, 404)
    assert list(Message.objects.filter(private=True).values_list("content", flat=True)) == [
        "secret"
    ]


def test_a_note_is_never_retried_for_delivery(agent_client, waiting, agent_user):
    note = services.note_add(by=agent_user, conversation=waiting, content="internal")
    Message.objects.filter(pk=note.pk).update(status=Message.Status.FAILED)

    response = agent_client.post(f"/api/conversations/{waiting.pk}/messages/{note.pk}/retry")

    assert response.status_code == 409
    note.refresh_from_db()
    assert note.status == Message.Status.FAILED


def test_the_notes_list_costs_the_same_for_one_and_many(agent_client, agent_user, waiting):
    def count_for(notes: int) -> int:
        for index in range(notes):
            services.note_add(by=agent_user, conversation=waiting, content=f"n{index}")
        with CaptureQueriesContext(connection) as queries:
            response = agent_client.get(f"/api/conversations/{waiting.pk}/notes")
        assert response.status_code == 200
        return len(queries)

    assert count_for(1) == count_for(20)


# --- mentions ------------------------------------------------------------------------------------


class Member:
    def __init__(self, pk, name, email):
        self.pk, self.name, self.email = pk, name, email


def test_mentions_match_full_names_and_email_names_longest_first():
    ana = Member(1, "Ana", "ana@x.example")
    ana_maria = Member(2, "Ana María", "amaria@x.example")
    olga = Member(3, "Olga Agent", "olga@x.example")

    found = mentioned("@Ana María y @olga, ¿y @ana? (@AMARIA) @anabel", [ana, ana_maria, olga])

    assert [member.pk for member in found] == [2, 3, 1]
    assert mentioned("mail me at ana@x.example", [ana]) == []


def test_a_note_mentions_the_members_who_can_see_the_conversation(
    agent_user, other_agent, admin_user, waiting
):
    note = services.note_add(
        by=agent_user,
        conversation=waiting,
        content="@Ana Admin and @Olga Agent and @Aldo Agent, look",
    )

    # Olga cannot see a conversation assigned to Aldo; Aldo wrote it himself.
    assert note.metadata["mentions"] == [
        {"id": str(admin_user.pk), "name": "Ana Admin"},
        {"id": str(agent_user.pk), "name": "Aldo Agent"},
    ]
    # only Ana hears of it (workbench's receiver of hooks.note_added)
    assert list(Notification.objects.values_list("user_id", "kind", "message_id")) == [
        (admin_user.pk, "mention", note.pk)
    ]


def test_in_the_unassigned_queue_every_agent_who_sees_it_can_be_mentioned(
    workspace, admin_user, other_agent
):
    workspace.settings = {AGENTS_SEE_UNASSIGNED.key: True}
    workspace.save()
    UserFactory(workspace=workspace, name="Paula Pending", is_pending=True)
    conversation = ConversationFactory(workspace=workspace)

    note = services.note_add(
        by=admin_user, conversation=conversation, content="@Olga Agent @Paula Pending"
    )

    assert [m["name"] for m in note.metadata["mentions"]] == ["Olga Agent"]
