"""The contact panel (name, phone, e-mail, a note, custom attributes, earlier conversations)
and tag management (rename, colour, merge, delete)."""

from __future__ import annotations

import uuid

import pytest

from conversations.models import Contact, ContactAttribute, Conversation, Event, Tag
from conversations.tests.factories import ContactFactory, ConversationFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def attributes(workspace):
    return {
        kind: ContactAttribute.objects.create(
            workspace=workspace, key=f"{kind}_field", label=kind.title(), type=kind
        )
        for kind in ("text", "number", "date", "link", "checkbox")
    }


@pytest.fixture
def customer(workspace, agent_user):
    contact = ContactFactory(workspace=workspace, name="Carla")
    ConversationFactory(workspace=workspace, contact=contact, assigned_agent=agent_user)
    return contact


# --- custom attributes ---------------------------------------------------------------------------


def test_admins_define_attributes_members_read_them(admin_client, agent_client, workspace):
    created = admin_client.post(
        "/api/contact-attributes", {"key": "plan", "label": "Plan", "type": "text"}, format="json"
    )
    renamed = admin_client.patch(
        f"/api/contact-attributes/{created.json()['id']}", {"label": "Contract"}, format="json"
    )
    listed = agent_client.get("/api/contact-attributes")

    assert created.status_code == 201
    assert renamed.json()["label"] == "Contract"
    assert [(a["key"], a["label"], a["type"]) for a in listed.json()] == [
        ("plan", "Contract", "text")
    ]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"key": "has space", "label": "X"}, 400, "key"),
        ({"key": "plan", "label": "X", "type": "colour"}, 400, "type"),
        ({"key": "plan"}, 400, "label"),
        ({"key": "plan", "label": "Again"}, 409, "key"),
    ],
)
def test_bad_attribute_definitions_are_refused(admin_client, workspace, body, status, field):
    ContactAttribute.objects.create(workspace=workspace, key="plan", label="Plan")

    response = admin_client.post("/api/contact-attributes", body, format="json")

    assert response.status_code == status
    assert field in response.json()["error"]["details"]
    assert ContactAttribute.objects.count() == 1


def test_agents_cannot_define_attributes_and_outsiders_cannot_see_them(
    agent_client, outsider_client, attributes
):
    text = attributes["text"]

    assert (
        agent_client.post("/api/contact-attributes", {"key": "x", "label": "X"}).status_code == 403
    )
    assert agent_client.delete(f"/api/contact-attributes/{text.pk}").status_code == 403
    assert outsider_client.get(f"/api/contact-attributes/{text.pk}").status_code == 404
    assert outsider_client.delete(f"/api/contact-attributes/{text.pk}").status_code == 404
    assert outsider_client.get("/api/contact-attributes").json() == []
    assert ContactAttribute.objects.count() == 5


def test_an_agent_edits_the_contact_with_a_note_and_typed_attributes(
    agent_client, customer, attributes
):
    response = agent_client.patch(
        f"/api/contacts/{customer.pk}",
        {
            "name": "Carla Gómez",
            "email": "carla@example.com",
            "note": "Prefers WhatsApp.\nAllergic to nuts.",
            "attributes": {
                "text_field": "Gold",
                "number_field": "12.5",
                "date_field": "2024-02-29",
                "link_field": "https://shop.example/orders/7",
                "checkbox_field": True,
            },
        },
        format="json",
    )

    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.name, customer.email) == ("Carla Gómez", "carla@example.com")
    assert customer.note == "Prefers WhatsApp.\nAllergic to nuts."
    assert customer.attributes == {
        "text_field": "Gold",
        "number_field": 12.5,
        "date_field": "2024-02-29",
        "link_field": "https://shop.example/orders/7",
        "checkbox_field": True,
    }
    # the lists learn the new name
    event = Event.objects.get(kind="conversation:updated")
    assert event.payload["conversation"]["contact_name"] == "Carla Gómez"


def test_clearing_one_attribute_keeps_the_others(agent_client, customer, attributes):
    customer.attributes = {"text_field": "Gold", "number_field": 3}
    customer.save()

    agent_client.patch(
        f"/api/contacts/{customer.pk}", {"attributes": {"text_field": None}}, format="json"
    )

    customer.refresh_from_db()
    assert customer.attributes == {"number_field": 3}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"unknown": "x"}, "unknown: Unknown attribute."),
        ({"number_field": "twelve"}, "number_field: Must be a number."),
        ({"number_field": True}, "number_field: Must be a number."),
        ({"date_field": "31/12/2024"}, "date_field: Must be a date (YYYY-MM-DD)."),
        (
            {"link_field": "javascript:alert(1)"},
            "link_field: Must be a web address (http or https).",
        ),
        ({"checkbox_field": "yes"}, "checkbox_field: Must be true or false."),
        ({"text_field": "x" * 501}, "text_field: At most 500 characters."),
    ],
)
def test_bad_attribute_values_change_nothing(agent_client, customer, attributes, values, message):
    response = agent_client.patch(
        f"/api/contacts/{customer.pk}",
        {"name": "Changed", "attributes": values},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"attributes": [message]}
    customer.refresh_from_db()
    assert (customer.name, customer.attributes) == ("Carla", {})


def test_deleting_an_attribute_removes_its_values(admin_client, customer, attributes):
    customer.attributes = {"text_field": "Gold", "number_field": 3}
    customer.save()

    response = admin_client.delete(f"/api/contact-attributes/{attributes['text'].pk}")

    assert response.status_code == 204
    customer.refresh_from_db()
    assert customer.attributes == {"number_field": 3}


def test_another_workspace_cannot_edit_the_contact(outsider_client, customer):
    response = outsider_client.patch(
        f"/api/contacts/{customer.pk}", {"note": "hacked"}, format="json"
    )

    assert response.status_code == 404
    assert Contact.objects.get(pk=customer.pk).note == ""


# --- earlier conversations -----------------------------------------------------------------------


def test_the_contacts_conversations_are_those_the_member_may_see(
    agent_client, admin_client, outsider_client, customer, workspace, other_agent
):
    ConversationFactory(workspace=workspace, contact=customer, status="resolved")
    ConversationFactory(workspace=workspace, contact=customer, assigned_agent=other_agent)

    mine = agent_client.get(f"/api/contacts/{customer.pk}/conversations").json()["results"]
    everything = admin_client.get(f"/api/contacts/{customer.pk}/conversations").json()["results"]

    assert len(mine) == 1
    assert len(everything) == 3
    assert outsider_client.get(f"/api/contacts/{customer.pk}/conversations").status_code == 404


def test_the_contacts_conversations_cost_the_same_for_one_and_many(
    admin_client, customer, workspace, django_assert_num_queries
):
    for _ in range(6):
        ConversationFactory(workspace=workspace, contact=customer)

    # user, contact (scope), identities prefetch, page of conversations, their tags
    with django_assert_num_queries(5):
        response = admin_client.get(f"/api/contacts/{customer.pk}/conversations")
    assert len(response.json()["results"]) == 7


# --- tags ----------------------------------------------------------------------------------------


def test_merging_a_tag_moves_its_conversations_and_deletes_it(admin_client, workspace):
    urgent, asap = (
        TagFactory(workspace=workspace, name="urgent"),
        TagFactory(workspace=workspace, name="asap"),
    )
    both = ConversationFactory(workspace=workspace)
    both.tags.add(urgent, asap)
    only_asap = ConversationFactory(workspace=workspace)
    only_asap.tags.add(asap)

    response = admin_client.post(f"/api/tags/{asap.pk}/merge", {"into": str(urgent.pk)}, "json")

    assert response.status_code == 200
    assert not Tag.objects.filter(pk=asap.pk).exists()
    assert [t.name for t in both.tags.all()] == ["urgent"]
    assert [t.name for t in only_asap.tags.all()] == ["urgent"]
    announced = {e.conversation_id for e in Event.objects.filter(kind="conversation:updated")}
    assert announced == {both.pk, only_asap.pk}


@pytest.mark.parametrize("into", ["self", "foreign", "missing", "not-an-id"])
def test_a_bad_merge_changes_nothing(admin_client, workspace, outsider, into):
    tag = TagFactory(workspace=workspace, name="vip")
    conversation = ConversationFactory(workspace=workspace)
    conversation.tags.add(tag)
    target = {
        "self": str(tag.pk),
        "foreign": str(TagFactory(workspace=outsider.workspace).pk),
        "missing": str(uuid.uuid4()),
        "not-an-id": "x",
    }[into]

    response = admin_client.post(f"/api/tags/{tag.pk}/merge", {"into": target}, "json")

    assert response.status_code == 400
    assert "into" in response.json()["error"]["details"]
    assert list(Conversation.objects.get(pk=conversation.pk).tags.all()) == [tag]


def test_only_admins_of_the_workspace_merge_tags(agent_client, outsider_client, workspace):
    one, two = TagFactory(workspace=workspace), TagFactory(workspace=workspace)

    by_agent = agent_client.post(f"/api/tags/{one.pk}/merge", {"into": str(two.pk)}, "json")
    by_outsider = outsider_client.post(f"/api/tags/{one.pk}/merge", {"into": str(two.pk)}, "json")

    assert (by_agent.status_code, by_outsider.status_code) == (403, 404)
    assert Tag.objects.count() == 2
