"""The events that are not a socket's business — a conversation or a contact appearing, a contact
changing, a rating — reach subscribed receivers signed, with the objects as the API shows them,
and never reach the inbox's sockets or its event log."""

from __future__ import annotations

import json

import pytest

from conversations.audience import event_groups
from conversations.models import Contact, Conversation, Event
from conversations.tests.factories import ContactFactory, ConversationFactory
from integrations.tests.factories import IntegrationFactory
from outgoing_webhooks.tests.test_webhooks import _dispatch_and_send, _subscribe
from satisfaction.services import rating_from_customer
from satisfaction.tests.factories import SurveyFactory

pytestmark = pytest.mark.django_db

SYSTEM_KINDS = ["contact:created", "conversation:created", "contact:updated", "rating:created"]


def _received(receiver) -> list[dict]:
    assert all(item.verified for item in receiver.received)
    return [json.loads(item.body) for item in receiver.received]


def _customer_writes(client, integration, text, capture, sender="cliente-1") -> None:
    with capture(execute=True):
        response = client.post(
            f"/api/webhooks/sandbox/{integration.pk}",
            {"from": sender, "name": "Carla", "text": text},
            format="json",
        )
    assert response.status_code == 202


def test_a_new_customer_brings_contact_conversation_and_message_events_in_order(
    admin_client, workspace, local, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    sandbox = IntegrationFactory(workspace=workspace, platform="sandbox")
    _subscribe(
        admin_client, local, events=["contact.created", "conversation.created", "message.created"]
    )

    _customer_writes(admin_client, sandbox, "Hola", capture)
    _customer_writes(admin_client, sandbox, "¿Siguen abiertos?", capture)
    _dispatch_and_send(capture)

    events = _received(local)
    assert [e["event"] for e in events] == [
        "contact.created",
        "conversation.created",
        "message.created",
        "message.created",
    ]
    contact, conversation = Contact.objects.get(), Conversation.objects.get()
    assert events[0]["data"]["contact"]["id"] == str(contact.pk)
    assert events[0]["data"]["contact"]["name"] == "Carla"
    assert [i["external_id"] for i in events[0]["data"]["contact"]["identities"]] == ["cliente-1"]
    assert events[1]["data"]["conversation"]["id"] == str(conversation.pk)
    assert events[1]["data"]["conversation"]["contact_id"] == str(contact.pk)


def test_an_agent_starting_a_conversation_by_hand_creates_both(
    admin_client, local, django_capture_on_commit_callbacks
):
    _subscribe(admin_client, local, events=["contact.created", "conversation.created"])

    response = admin_client.post(
        "/api/conversations", {"contact_name": "Ana", "platform": "sandbox"}, format="json"
    )
    _dispatch_and_send(django_capture_on_commit_callbacks)

    assert response.status_code == 201
    events = _received(local)
    assert [e["event"] for e in events] == ["contact.created", "conversation.created"]
    assert events[0]["data"]["contact"]["name"] == "Ana"
    assert events[1]["data"]["conversation"]["id"] == response.json()["id"]


def test_an_agents_edit_of_a_contact_is_contact_updated(
    admin_client, workspace, local, django_capture_on_commit_callbacks
):
    conversation = ConversationFactory(workspace=workspace, status="active")
    _subscribe(admin_client, local, events=["contact.updated"])

    response = admin_client.patch(
        f"/api/contacts/{conversation.contact_id}",
        {"email": "carla@example.com", "note": "Prefiere WhatsApp"},
        format="json",
    )
    _dispatch_and_send(django_capture_on_commit_callbacks)

    assert response.status_code == 200, response.content
    [event] = _received(local)
    assert event["event"] == "contact.updated"
    assert (event["data"]["contact"]["email"], event["data"]["contact"]["note"]) == (
        "carla@example.com",
        "Prefiere WhatsApp",
    )


def test_ratings_from_agents_and_customers_are_rating_created_once_each(
    admin_client, workspace, local, django_capture_on_commit_callbacks
):
    conversation = ConversationFactory(workspace=workspace, status="resolved")
    survey = SurveyFactory(conversation=ConversationFactory(workspace=workspace))
    _subscribe(admin_client, local, events=["rating.created"])

    recorded = admin_client.post(
        f"/api/conversations/{conversation.pk}/rating", {"score": 5}, format="json"
    )
    rating_from_customer(survey=survey, score=2)
    rating_from_customer(survey=survey, score=4)  # a second button: the score changes
    _dispatch_and_send(django_capture_on_commit_callbacks)

    assert recorded.status_code == 201
    events = _received(local)
    assert [(e["event"], e["data"]["rating"]["score"]) for e in events] == [
        ("rating.created", 5),
        ("rating.created", 2),
    ]
    assert events[0]["data"]["rating"]["id"] == recorded.json()["id"]
    assert events[1]["data"]["rating"]["survey_id"] == str(survey.pk)


def test_integration_only_events_never_reach_sockets_or_the_event_log(
    admin_client, workspace, django_capture_on_commit_callbacks
):
    sandbox = IntegrationFactory(workspace=workspace, platform="sandbox")
    _customer_writes(admin_client, sandbox, "Hola", django_capture_on_commit_callbacks)
    contact = Contact.objects.get()
    admin_client.patch(f"/api/contacts/{contact.pk}", {"name": "Carla R."}, format="json")

    recorded = Event.objects.filter(audience=Event.Audience.SYSTEM).order_by("id")
    listed = admin_client.get("/api/events", {"after": 0}).json()["results"]

    assert [e.kind for e in recorded] == SYSTEM_KINDS[:3]
    assert all(event_groups(event) == [] for event in recorded)
    assert not {e["type"] for e in listed} & set(SYSTEM_KINDS)
    assert "message:new" in {e["type"] for e in listed}


def test_a_merge_and_its_undo_are_contact_updated_for_the_kept_contact(
    admin_client, workspace, local, django_capture_on_commit_callbacks
):
    kept = ContactFactory(workspace=workspace, name="Ana López", email="ana@shop.example")
    folded = ContactFactory(workspace=workspace, name="ana", email="ANA@shop.example")
    _subscribe(admin_client, local, events=["contact.updated"])

    merged = admin_client.post(
        f"/api/contacts/{kept.pk}/merge", {"other_id": str(folded.pk)}, format="json"
    )
    undone = admin_client.post(f"/api/contact-merges/{merged.json()['id']}/undo")
    _dispatch_and_send(django_capture_on_commit_callbacks)

    assert (merged.status_code, undone.status_code) == (201, 200)
    events = _received(local)
    assert [e["event"] for e in events] == ["contact.updated", "contact.updated"]
    assert {e["data"]["contact"]["id"] for e in events} == {str(kept.pk)}
    assert {e["data"]["merged_contact"]["id"] for e in events} == {str(folded.pk)}
    assert [e["data"]["merge"]["undone_at"] is None for e in events] == [True, False]
