"""Notifications: the four moments, preferences, live events, reading, and the e-mail digest."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from conversations import services
from conversations.models import Event
from conversations.services import InboundMessage
from conversations.tests.factories import ConversationFactory, MessageFactory
from integrations.tests.factories import IntegrationFactory
from workbench import services as workbench
from workbench.models import Notification, NotificationPreference, WorkspaceAlerts
from workbench.tasks import notification_emails_task

pytestmark = pytest.mark.django_db


def _kinds(user) -> list[tuple[str, int]]:
    return list(
        Notification.objects.filter(user=user).order_by("created_at").values_list("kind", "count")
    )


@pytest.fixture
def conversation(workspace):
    return ConversationFactory(workspace=workspace)


# --- the moments ---------------------------------------------------------------------------------


def test_an_assignment_notifies_the_assignee_unless_they_took_it(
    admin_user, agent_user, workspace, conversation
):
    workspace.settings = {"agents_see_unassigned": True}
    workspace.save()
    services.conversation_assign(by=admin_user, conversation=conversation, agent=agent_user)
    claimed = ConversationFactory(workspace=workspace)
    services.conversation_assign(by=agent_user, conversation=claimed, agent=agent_user)

    notification = Notification.objects.get()
    assert (notification.user, notification.kind, notification.actor) == (
        agent_user,
        "assigned",
        admin_user,
    )
    assert notification.conversation == conversation


def test_each_notification_is_a_live_event_for_that_member_only(
    admin_user, agent_user, conversation
):
    services.conversation_assign(by=admin_user, conversation=conversation, agent=agent_user)

    event = Event.objects.get(kind="notification:new")
    assert (event.audience, event.user_id) == ("user", agent_user.pk)
    assert event.payload["unread_count"] == 1
    data = event.payload["notification"]
    assert (data["kind"], data["actor"]["name"], data["url"]) == (
        "assigned",
        "Ana Admin",
        f"/inbox/{conversation.pk}/",
    )


def test_a_mention_notifies_with_the_notes_text(admin_user, agent_user, conversation):
    conversation = services.conversation_assign(
        by=admin_user, conversation=conversation, agent=agent_user
    )
    Notification.objects.all().delete()

    services.note_add(by=admin_user, conversation=conversation, content="@Aldo Agent call her")

    notification = Notification.objects.get()
    assert (notification.kind, notification.text, notification.actor) == (
        "mention",
        "@Aldo Agent call her",
        admin_user,
    )


def test_customer_messages_fold_into_one_unread_notification_per_conversation(
    admin_user, agent_user, workspace
):
    channel = IntegrationFactory(workspace=workspace, platform="sandbox")

    def customer_writes(text: str):
        inbound = InboundMessage(
            external_contact_id="c1", external_id=str(uuid.uuid4()), content=text
        )
        return services.message_receive_inbound(integration=channel, inbound=inbound).message

    first = customer_writes("hola")
    services.conversation_assign(by=admin_user, conversation=first.conversation, agent=agent_user)
    Notification.objects.all().delete()
    customer_writes("¿hay alguien?")
    customer_writes("necesito ayuda")
    notification = Notification.objects.get()
    assert (notification.kind, notification.count, notification.text) == (
        "message",
        2,
        "necesito ayuda",
    )

    workbench.notification_mark_read(user=agent_user, notification=notification)
    customer_writes("gracias")

    assert _kinds(agent_user) == [("message", 2), ("message", 1)]


def test_nobody_hears_of_messages_in_an_unassigned_conversation(admin_user, workspace):
    channel = IntegrationFactory(workspace=workspace, platform="sandbox")
    services.message_receive_inbound(
        integration=channel,
        inbound=InboundMessage(external_contact_id="c1", external_id="m1", content="hola"),
    )

    assert not Notification.objects.exists()


def test_preferences_turn_a_kind_off(admin_user, agent_user, conversation):
    NotificationPreference.objects.create(user=agent_user, notify_assigned=False)

    services.conversation_assign(by=admin_user, conversation=conversation, agent=agent_user)

    assert not Notification.objects.exists()


def test_a_conversation_waiting_too_long_alerts_once_per_wait(admin_user, agent_user, workspace):
    WorkspaceAlerts.objects.create(workspace=workspace, waiting_alert_minutes=10)
    assigned = ConversationFactory(workspace=workspace, assigned_agent=agent_user)
    queued = ConversationFactory(workspace=workspace)
    fresh = ConversationFactory(workspace=workspace, assigned_agent=agent_user)
    snoozed = ConversationFactory(workspace=workspace, assigned_agent=agent_user, snoozed=True)
    for item in (assigned, queued, fresh, snoozed):
        MessageFactory(conversation=item, content="hello?")
    long_ago = timezone.now() - timedelta(minutes=15)
    for item in (assigned, queued, snoozed):
        type(item).objects.filter(pk=item.pk).update(waiting_since=long_ago)

    assert workbench.waiting_alerts_record() == 2
    assert workbench.waiting_alerts_record() == 0  # the same wait: alerted already

    alerts = Notification.objects.filter(kind="waiting")
    assert {(a.user_id, a.conversation_id) for a in alerts} == {
        (agent_user.pk, assigned.pk),
        (admin_user.pk, queued.pk),  # nobody assigned: the admins
    }


def test_no_alerts_without_a_threshold(agent_user, workspace):
    conversation = ConversationFactory(workspace=workspace, assigned_agent=agent_user)
    MessageFactory(conversation=conversation)
    type(conversation).objects.filter(pk=conversation.pk).update(
        waiting_since=timezone.now() - timedelta(days=3)
    )

    assert workbench.waiting_alerts_record() == 0


# --- the API -------------------------------------------------------------------------------------


@pytest.fixture
def three_for_agent(admin_user, agent_user, workspace):
    conversations = [ConversationFactory(workspace=workspace) for _ in range(3)]
    for conversation in conversations:
        services.conversation_assign(by=admin_user, conversation=conversation, agent=agent_user)
    return conversations


def test_the_member_lists_counts_and_reads_their_notifications(
    agent_client, agent_user, three_for_agent
):
    listed = agent_client.get("/api/notifications").json()["results"]
    assert [n["conversation_id"] for n in listed] == [str(c.pk) for c in three_for_agent[::-1]]
    assert agent_client.get("/api/notifications/count").json() == {"unread": 3}

    read = agent_client.post(f"/api/notifications/{listed[0]['id']}/read")
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    assert agent_client.get("/api/notifications/count").json() == {"unread": 2}
    assert len(agent_client.get("/api/notifications?unread=true").json()["results"]) == 2

    agent_client.post(
        "/api/notifications/read-conversation",
        {"conversation_id": str(three_for_agent[0].pk)},
        format="json",
    )
    assert agent_client.get("/api/notifications/count").json() == {"unread": 1}
    assert agent_client.post("/api/notifications/read-all").json() == {"unread": 0}
    # the member's other tabs are told
    reads = Event.objects.filter(kind="notification:read", user_id=agent_user.pk)
    assert [e.payload["unread_count"] for e in reads] == [2, 1, 0]


def test_nobody_reads_or_sees_someone_elses_notifications(
    outsider_client, admin_client, three_for_agent
):
    notification = Notification.objects.first()

    for client in (outsider_client, admin_client):
        assert client.post(f"/api/notifications/{notification.pk}/read").status_code == 404
        assert client.get("/api/notifications").json()["results"] == []
    notification.refresh_from_db()
    assert notification.read_at is None


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/notifications/read-conversation", {"conversation_id": "nope"}),
        ("/api/notifications/read-conversation", {"conversation_id": str(uuid.uuid4())}),
        ("/api/notifications/read-conversation", {}),
    ],
)
def test_bad_reads_are_refused_and_read_nothing(agent_client, three_for_agent, path, body):
    response = agent_client.post(path, body, format="json")

    assert response.status_code == 400
    assert "conversation_id" in response.json()["error"]["details"]
    assert Notification.objects.filter(read_at__isnull=True).count() == 3


def test_the_list_costs_the_same_for_one_and_many(agent_client, admin_user, agent_user, workspace):
    def queries_for(count: int) -> int:
        for _ in range(count):
            conversation = ConversationFactory(workspace=workspace)
            services.conversation_assign(by=admin_user, conversation=conversation, agent=agent_user)
        with CaptureQueriesContext(connection) as queries:
            assert agent_client.get("/api/notifications").status_code == 200
        return len(queries)

    assert queries_for(1) == queries_for(10)


def test_preferences_read_and_change(agent_client, agent_user):
    defaults = agent_client.get("/api/notifications/preferences").json()
    changed = agent_client.patch(
        "/api/notifications/preferences", {"browser": True, "email_mention": False}, "json"
    )

    assert defaults == {
        "notify_assigned": True,
        "notify_mention": True,
        "notify_message": True,
        "notify_waiting": True,
        "email_assigned": True,
        "email_mention": True,
        "browser": False,
        "sound": False,
    }
    assert changed.json()["browser"] is True
    assert changed.json()["email_mention"] is False
    stored = NotificationPreference.objects.get(user=agent_user)
    assert (stored.browser, stored.email_mention, stored.sound) == (True, False, False)


@pytest.mark.parametrize("body", [{"browser": "maybe"}, {"telepathy": True}])
def test_bad_preferences_change_nothing(agent_client, agent_user, body):
    response = agent_client.patch("/api/notifications/preferences", body, format="json")

    assert response.status_code == 400
    assert not NotificationPreference.objects.filter(user=agent_user).exists()


# --- the e-mail digest ---------------------------------------------------------------------------


def _age_everything(minutes: int = 5) -> None:
    Notification.objects.update(created_at=timezone.now() - timedelta(minutes=minutes))


def _away(user: User) -> None:
    User.objects.filter(pk=user.pk).update(open_sockets=0)


def test_an_absent_member_gets_one_digest_of_mentions_and_assignments(
    admin_user, agent_user, workspace, settings
):
    settings.PUBLIC_BASE_URL = "https://flame.example"
    agent_user.language = "en"
    agent_user.save()
    first = ConversationFactory(workspace=workspace, contact__name="Carla")
    second = ConversationFactory(workspace=workspace, contact__name="Bruno")
    first = services.conversation_assign(by=admin_user, conversation=first, agent=agent_user)
    services.conversation_assign(by=admin_user, conversation=second, agent=agent_user)
    services.note_add(by=admin_user, conversation=first, content="@Aldo Agent she called")
    _age_everything()

    assert notification_emails_task() == 1
    assert notification_emails_task() == 0  # claimed: never twice

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["agent@a.example"]
    assert message.subject == "3 things need you in FLAME"
    assert "The conversation with Carla was assigned to you." in message.body
    assert "Ana Admin mentioned you in the conversation with Carla:" in message.body
    assert f"https://flame.example/inbox/{second.pk}/" in message.body


def test_no_email_while_the_member_is_here_or_for_what_they_read(admin_user, agent_user, workspace):
    conversation = ConversationFactory(workspace=workspace)
    services.conversation_assign(by=admin_user, conversation=conversation, agent=agent_user)
    _age_everything()
    User.objects.filter(pk=agent_user.pk).update(open_sockets=1, last_seen_at=timezone.now())

    assert notification_emails_task() == 0

    Notification.objects.update(read_at=timezone.now())
    _away(agent_user)
    assert notification_emails_task() == 0
    assert mail.outbox == []


def test_no_email_before_the_delay_nor_twice_within_the_interval(admin_user, agent_user, workspace):
    first = ConversationFactory(workspace=workspace)
    services.conversation_assign(by=admin_user, conversation=first, agent=agent_user)
    assert notification_emails_task() == 0  # too fresh: they may still see it

    _age_everything()
    assert notification_emails_task() == 1
    second = ConversationFactory(workspace=workspace)
    services.conversation_assign(by=admin_user, conversation=second, agent=agent_user)
    _age_everything()
    assert notification_emails_task() == 0  # one digest per interval
    assert len(mail.outbox) == 1


def test_a_member_who_wants_no_emails_gets_none(admin_user, agent_user, workspace):
    NotificationPreference.objects.create(user=agent_user, email_assigned=False)
    conversation = ConversationFactory(workspace=workspace)
    services.conversation_assign(by=admin_user, conversation=conversation, agent=agent_user)
    _age_everything()

    assert notification_emails_task() == 0
    assert mail.outbox == []
    assert Notification.objects.get().email_handled_at is not None
