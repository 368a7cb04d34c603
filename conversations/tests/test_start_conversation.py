"""Starting a conversation with a customer from the API: the identity on the channel, reuse of
the open conversation, the fields a client sends (honoured or refused by name)."""

from __future__ import annotations

import pytest

from conversations.models import Contact, ContactIdentity, Conversation, Event
from conversations.services import InboundMessage, message_receive_inbound
from conversations.tests.factories import ConversationFactory, TagFactory
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

CUSTOMER_WA_ID = "5215511112222"
TELEGRAM_CHAT = "5126743981"


@pytest.fixture
def whatsapp(workspace):
    return IntegrationFactory(workspace=workspace, platform="whatsapp")


@pytest.fixture
def telegram(workspace):
    return IntegrationFactory(workspace=workspace, platform="telegram")


def start(client, **body):
    return client.post("/api/conversations", body, format="json")


def counts() -> tuple[int, int, int, int]:
    return (
        Contact.objects.count(),
        ContactIdentity.objects.count(),
        Conversation.objects.count(),
        Event.objects.count(),
    )


# --- the customer's identity on the channel ------------------------------------------------------


def test_whatsapp_conversation_started_by_phone_gets_the_wa_id_identity(admin_client, whatsapp):
    response = start(
        admin_client,
        contact_name="Juan Pérez",
        contact_phone="+52 1 55 1111-2222",
        platform="whatsapp",
        integration_id=str(whatsapp.pk),
    )

    assert response.status_code == 201, response.content
    conversation = Conversation.objects.get()
    identity = ContactIdentity.objects.get()
    assert (identity.integration_id, identity.external_id, identity.contact_id) == (
        whatsapp.pk,
        CUSTOMER_WA_ID,
        conversation.contact_id,
    )
    assert (conversation.integration_id, conversation.platform, conversation.status) == (
        whatsapp.pk,
        "whatsapp",
        "active",
    )
    assert (conversation.contact.name, conversation.contact.phone) == (
        "Juan Pérez",
        "+52 1 55 1111-2222",
    )
    assert response.json()["id"] == str(conversation.pk)


def test_telegram_conversation_is_started_with_the_chat_id(admin_client, telegram):
    response = start(
        admin_client,
        contact_name="Lucía",
        platform="telegram",
        integration_id=str(telegram.pk),
        contact_external_id=TELEGRAM_CHAT,
    )

    assert response.status_code == 201
    assert ContactIdentity.objects.get().external_id == TELEGRAM_CHAT


def test_a_channel_without_phone_addresses_needs_the_external_id(admin_client, telegram):
    response = start(
        admin_client,
        contact_name="Lucía",
        contact_phone="+34600111222",
        platform="telegram",
        integration_id=str(telegram.pk),
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "contact_external_id": ["Needed to reach the customer on this channel."]
    }
    assert counts() == (0, 0, 0, 0)


def test_whatsapp_needs_a_phone_number_or_the_external_id(admin_client, whatsapp):
    response = start(
        admin_client,
        contact_name="Juan",
        contact_phone="llámame",
        platform="whatsapp",
        integration_id=str(whatsapp.pk),
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "contact_external_id": ["Needed to reach the customer on this channel (or contact_phone)."]
    }
    assert counts() == (0, 0, 0, 0)


def test_platform_must_be_the_integrations(admin_client, telegram):
    response = start(
        admin_client,
        contact_name="Lucía",
        platform="whatsapp",
        integration_id=str(telegram.pk),
        contact_external_id=TELEGRAM_CHAT,
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "platform": ["Not the platform of integration_id."]
    }
    assert counts() == (0, 0, 0, 0)


def test_an_external_id_needs_its_channel(admin_client):
    response = start(
        admin_client, contact_name="Lucía", platform="telegram", contact_external_id=TELEGRAM_CHAT
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["contact_external_id"]
    assert counts() == (0, 0, 0, 0)


def test_another_workspaces_channel_is_400_and_creates_nothing(admin_client, outsider):
    foreign = IntegrationFactory(workspace=outsider.workspace, platform="telegram")

    response = start(
        admin_client,
        contact_name="Lucía",
        platform="telegram",
        integration_id=str(foreign.pk),
        contact_external_id=TELEGRAM_CHAT,
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["integration_id"]
    assert counts() == (0, 0, 0, 0)


# --- one open conversation per customer and channel ----------------------------------------------


def test_a_known_customers_open_conversation_is_reused(admin_client, telegram):
    inbound = message_receive_inbound(
        integration=telegram,
        inbound=InboundMessage(
            external_contact_id=TELEGRAM_CHAT, external_id="m1", content="Hola", contact_name=""
        ),
    ).message

    response = start(
        admin_client,
        contact_name="Lucía Fernández",
        contact_email="lucia@correo.es",
        platform="telegram",
        integration_id=str(telegram.pk),
        contact_external_id=TELEGRAM_CHAT,
    )

    assert response.status_code == 200
    assert response.json()["id"] == str(inbound.conversation_id)
    assert (Contact.objects.count(), Conversation.objects.count()) == (1, 1)
    contact = Contact.objects.get()
    # What the agent typed fills what we did not know.
    assert (contact.name, contact.email) == ("Lucía Fernández", "lucia@correo.es")


def test_what_we_know_of_a_contact_is_not_overwritten(admin_client, telegram):
    message_receive_inbound(
        integration=telegram,
        inbound=InboundMessage(
            external_contact_id=TELEGRAM_CHAT, external_id="m1", content="Hola", contact_name="Lu"
        ),
    )

    start(
        admin_client,
        contact_name="Otra persona",
        platform="telegram",
        integration_id=str(telegram.pk),
        contact_external_id=TELEGRAM_CHAT,
    )

    assert Contact.objects.get().name == "Lu"


def test_the_last_resolved_conversation_is_reopened(admin_client, telegram):
    first = start(
        admin_client,
        contact_name="Lucía",
        platform="telegram",
        integration_id=str(telegram.pk),
        contact_external_id=TELEGRAM_CHAT,
    ).json()
    admin_client.post(f"/api/conversations/{first['id']}/status", {"status": "resolved"})

    again = start(
        admin_client,
        contact_name="Lucía",
        platform="telegram",
        integration_id=str(telegram.pk),
        contact_external_id=TELEGRAM_CHAT,
    )

    assert again.status_code == 200
    assert (again.json()["id"], again.json()["status"]) == (first["id"], "active")
    assert Conversation.objects.count() == 1


def test_an_agent_who_starts_one_is_assigned(agent_client, agent_user, telegram):
    response = start(
        agent_client,
        contact_name="Lucía",
        platform="telegram",
        integration_id=str(telegram.pk),
        contact_external_id=TELEGRAM_CHAT,
    )

    assert response.status_code == 201
    assert response.json()["assigned_agent_id"] == str(agent_user.pk)


def test_another_agents_conversation_is_a_409_that_changes_nothing(
    agent_client, other_agent, telegram
):
    contact = Contact.objects.create(workspace=telegram.workspace, name="Lucía")
    ContactIdentity.objects.create(contact=contact, integration=telegram, external_id=TELEGRAM_CHAT)
    theirs = ConversationFactory(
        workspace=telegram.workspace,
        integration=telegram,
        platform="telegram",
        contact=contact,
        status="resolved",
        assigned_agent=other_agent,
    )
    before = counts()

    response = start(
        agent_client,
        contact_name="Lucía",
        platform="telegram",
        integration_id=str(telegram.pk),
        contact_external_id=TELEGRAM_CHAT,
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conversation_of_another_agent"
    assert str(theirs.pk) not in response.content.decode()
    theirs.refresh_from_db()
    assert (theirs.status, theirs.assigned_agent_id) == ("resolved", other_agent.pk)
    assert counts() == before


# --- fields a client sends are honoured, or refused by name --------------------------------------


def test_status_priority_and_tags_are_honoured_at_creation(admin_client, workspace):
    TagFactory(workspace=workspace, name="VIP")

    response = start(
        admin_client,
        contact_name="Ana",
        platform="sandbox",
        status="pending",
        priority="high",
        tags=["vip", "envío"],
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["priority"], body["priority_set_by_agent"]) == (
        "pending",
        "high",
        True,
    )
    assert ([tag["name"] for tag in body["tags"]], body["tags_set_by_agent"]) == (
        ["VIP", "envío"],
        True,
    )
    event = Event.objects.exclude(audience=Event.Audience.SYSTEM).get()
    assert (event.kind, event.payload["conversation"]["priority"]) == (
        "conversation:updated",
        "high",
    )


def test_a_new_conversation_cannot_start_closed(admin_client):
    response = start(admin_client, contact_name="Ana", platform="sandbox", status="resolved")

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["status"]
    assert counts() == (0, 0, 0, 0)


def test_unknown_fields_are_refused_by_name(admin_client):
    response = start(
        admin_client, contact_name="Ana", platform="sandbox", assigned_to="x", source="web"
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "assigned_to": ["Unknown field: not accepted here."],
        "source": ["Unknown field: not accepted here."],
    }
    assert counts() == (0, 0, 0, 0)
