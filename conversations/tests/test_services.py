from __future__ import annotations

import pytest
from django.utils import timezone

from conversations import services
from conversations.models import Contact, ContactIdentity, Conversation, Event, Message
from conversations.services import InboundMessage, OutboundDraft
from conversations.tests.factories import ConversationFactory
from flame.exceptions import ConflictError, InvalidInput, PermissionDeniedError
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(workspace):
    return IntegrationFactory(workspace=workspace, platform="whatsapp", external_account_id="1065")


def _inbound(external_id="wamid.1", contact="5215512345678", **extra) -> InboundMessage:
    return InboundMessage(
        external_contact_id=contact,
        external_id=external_id,
        content=extra.pop("content", "Hola"),
        contact_name=extra.pop("contact_name", "María López"),
        contact_phone=contact,
        **extra,
    )


def test_inbound_creates_contact_identity_conversation_and_message(channel):
    result = services.message_receive_inbound(integration=channel, inbound=_inbound())

    assert result.created is True
    conversation = Conversation.objects.get(pk=result.message.conversation_id)
    assert (conversation.platform, conversation.status, conversation.unread_count) == (
        "whatsapp",
        "active",
        1,
    )
    assert conversation.last_message == "Hola"
    assert conversation.contact.name == "María López"
    assert ContactIdentity.objects.get().external_id == "5215512345678"
    assert Event.objects.filter(kind="message:new").count() == 1


def test_inbound_twice_changes_nothing(channel):
    first = services.message_receive_inbound(integration=channel, inbound=_inbound())
    second = services.message_receive_inbound(integration=channel, inbound=_inbound())

    assert second.created is False
    assert second.message.pk == first.message.pk
    assert Message.objects.count() == 1
    assert Contact.objects.count() == 1
    conversation = Conversation.objects.get()
    assert (conversation.unread_count, conversation.message_count) == (1, 1)
    assert Event.objects.filter(kind="message:new").count() == 1


def test_same_external_id_on_another_channel_is_another_message(channel, workspace):
    other = IntegrationFactory(workspace=workspace, platform="telegram")

    services.message_receive_inbound(integration=channel, inbound=_inbound())
    services.message_receive_inbound(integration=other, inbound=_inbound())

    assert Message.objects.count() == 2
    assert Contact.objects.count() == 2  # identities are per channel account


def test_burst_goes_to_one_conversation_and_counts(channel):
    for n in range(3):
        services.message_receive_inbound(
            integration=channel, inbound=_inbound(f"wamid.{n}", content=f"m{n}")
        )

    conversation = Conversation.objects.get()
    assert (conversation.unread_count, conversation.message_count, conversation.last_message) == (
        3,
        3,
        "m2",
    )


def test_inbound_after_resolution_reopens_the_conversation(channel, admin_user):
    first = services.message_receive_inbound(integration=channel, inbound=_inbound("a"))
    services.conversation_set_status(
        by=admin_user, conversation=first.message.conversation, status="resolved"
    )

    again = services.message_receive_inbound(integration=channel, inbound=_inbound("b"))

    assert again.message.conversation_id == first.message.conversation_id
    conversation = Conversation.objects.get()
    assert (conversation.status, conversation.resolved_at) == ("active", None)


def test_inbound_after_archive_opens_a_new_conversation(channel, admin_user):
    first = services.message_receive_inbound(integration=channel, inbound=_inbound("a"))
    services.conversation_set_status(
        by=admin_user, conversation=first.message.conversation, status="archived"
    )

    again = services.message_receive_inbound(integration=channel, inbound=_inbound("b"))

    assert again.message.conversation_id != first.message.conversation_id
    assert Conversation.objects.count() == 2


def test_inbound_uses_default_assistant_of_channel(channel, workspace):
    from assistants.tests.factories import AssistantFactory

    channel.default_assistant = AssistantFactory(workspace=workspace)
    channel.save()

    result = services.message_receive_inbound(integration=channel, inbound=_inbound())

    assert result.message.conversation.assigned_assistant_id == channel.default_assistant_id


def test_agent_reply_counts_first_response_and_clears_unread(channel, admin_user):
    inbound = services.message_receive_inbound(integration=channel, inbound=_inbound())
    conversation = inbound.message.conversation

    reply = services.message_send_agent(
        by=admin_user, conversation=conversation, draft=OutboundDraft(content="¡Hola María!")
    )

    conversation.refresh_from_db()
    assert reply.status == "queued"  # delivery to the channel happens after commit
    assert conversation.unread_count == 0
    assert conversation.first_response_at == reply.created_at
    assert conversation.last_agent_reply_at == reply.created_at
    assert conversation.message_count == 2


def test_reply_without_channel_is_marked_sent(
    admin_user, workspace, django_capture_on_commit_callbacks
):
    conversation = ConversationFactory(workspace=workspace)

    with django_capture_on_commit_callbacks(execute=True):
        reply = services.message_send_agent(
            by=admin_user, conversation=conversation, draft=OutboundDraft(content="Hola")
        )

    assert reply.status == "sent"
    assert list(Event.objects.values_list("kind", flat=True)) == ["message:new"]


def test_first_response_is_kept_from_the_first_reply(admin_user, workspace):
    conversation = ConversationFactory(workspace=workspace)
    first = services.message_send_agent(
        by=admin_user, conversation=conversation, draft=OutboundDraft(content="1")
    )
    services.message_send_agent(
        by=admin_user, conversation=conversation, draft=OutboundDraft(content="2")
    )

    conversation.refresh_from_db()
    assert conversation.first_response_at == first.created_at


def test_empty_reply_is_refused(admin_user, workspace):
    conversation = ConversationFactory(workspace=workspace)

    with pytest.raises(InvalidInput):
        services.message_send_agent(
            by=admin_user, conversation=conversation, draft=OutboundDraft(content="  ")
        )
    assert Message.objects.count() == 0


@pytest.mark.parametrize(
    ("steps", "final"),
    [
        (["sent", "delivered", "read"], "read"),
        (["sent", "read", "delivered"], "read"),  # a late "delivered" never overwrites "read"
        (["read", "sent"], "read"),
        (["sent", "failed", "delivered"], "failed"),
        (["delivered", "failed"], "delivered"),
    ],
)
def test_status_only_moves_forward(admin_user, channel, steps, final):
    conversation = ConversationFactory(workspace=channel.workspace, integration=channel)
    message = services.message_send_agent(
        by=admin_user, conversation=conversation, draft=OutboundDraft(content="x")
    )

    for status in steps:
        services.message_update_status(
            message=message, status=status, error_code="131026", error_message="undeliverable"
        )

    message.refresh_from_db()
    assert message.status == final


def test_status_update_records_one_event_per_move(admin_user, channel):
    conversation = ConversationFactory(workspace=channel.workspace, integration=channel)
    message = services.message_send_agent(
        by=admin_user, conversation=conversation, draft=OutboundDraft(content="x")
    )

    moves = [
        services.message_update_status(message=message, status=s)
        for s in ("sent", "sent", "delivered")
    ]

    assert moves == [True, False, True]
    assert Event.objects.filter(kind="message:status").count() == 2


def test_resolve_and_reopen_keep_timestamps(admin_user, workspace):
    conversation = ConversationFactory(workspace=workspace)

    resolved = services.conversation_set_status(
        by=admin_user, conversation=conversation, status="resolved"
    )
    assert resolved.resolved_at is not None
    assert resolved.resolved_at <= timezone.now()
    reopened = services.conversation_set_status(
        by=admin_user, conversation=resolved, status="active"
    )
    assert reopened.resolved_at is None


def test_reopening_when_customer_has_another_open_conversation_is_409(channel, admin_user):
    first = services.message_receive_inbound(
        integration=channel, inbound=_inbound("a")
    ).message.conversation
    services.conversation_set_status(by=admin_user, conversation=first, status="archived")
    services.message_receive_inbound(integration=channel, inbound=_inbound("b"))
    first.refresh_from_db()

    with pytest.raises(ConflictError):
        services.conversation_set_status(by=admin_user, conversation=first, status="active")
    first.refresh_from_db()
    assert first.status == "archived"


def test_tags_by_name_are_created_once(admin_user, workspace):
    conversation = ConversationFactory(workspace=workspace)

    updated = services.conversation_update(
        by=admin_user, conversation=conversation, tags=["VIP", "vip", "envío"]
    )

    assert sorted(t.name for t in updated.tags.all()) == ["VIP", "envío"]


def test_agent_cannot_assign_other_agents(agent_user, other_agent, workspace):
    conversation = ConversationFactory(workspace=workspace, assigned_agent=agent_user)

    with pytest.raises(PermissionDeniedError):
        services.conversation_assign(by=agent_user, conversation=conversation, agent=other_agent)


def test_agent_claims_from_queue_when_workspace_allows(agent_user, workspace):
    workspace.settings = {"agents_see_unassigned": True}
    workspace.save()
    conversation = ConversationFactory(workspace=workspace)

    claimed = services.conversation_assign(
        by=agent_user, conversation=conversation, agent=agent_user
    )

    assert claimed.assigned_agent_id == agent_user.pk


def test_reassignment_tells_the_previous_agent(admin_user, agent_user, other_agent, workspace):
    conversation = ConversationFactory(workspace=workspace, assigned_agent=agent_user)

    services.conversation_assign(by=admin_user, conversation=conversation, agent=other_agent)

    removed = Event.objects.get(kind="conversation:removed")
    assert removed.user_id == agent_user.pk
    updated = Event.objects.get(kind="conversation:updated")
    assert updated.assigned_agent_id == other_agent.pk


def test_mark_read_only_records_an_event_when_something_changed(admin_user, workspace):
    conversation = ConversationFactory(workspace=workspace, unread_count=2)

    services.conversation_mark_read(by=admin_user, conversation=conversation)
    services.conversation_mark_read(by=admin_user, conversation=conversation)

    conversation.refresh_from_db()
    assert conversation.unread_count == 0
    assert Event.objects.filter(kind="conversation:updated").count() == 1


def test_events_prune_keeps_recent_rows(workspace):
    old = Event.objects.create(workspace=workspace, kind="x", audience="workspace", payload={})
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - timezone.timedelta(days=8))
    Event.objects.create(workspace=workspace, kind="y", audience="workspace", payload={})

    assert services.events_prune(older_than_days=7) == 1
    assert list(Event.objects.values_list("kind", flat=True)) == ["y"]
