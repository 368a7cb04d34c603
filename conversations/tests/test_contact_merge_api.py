"""The duplicate contacts API: suggestions, merge, the recent merges and undo, dismissal; who
may do what (admins, agents, another workspace, API keys), and bad input changing nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import api_keys, audit
from accounts import services as account_services
from accounts.models import ApiKey, AuditEntry
from accounts.tests.test_api_keys import key_client
from conftest import api_client_for
from conversations import services
from conversations.models import (
    Contact,
    ContactDuplicateDismissal,
    ContactIdentity,
    ContactMerge,
    Conversation,
)
from conversations.tests.factories import ContactFactory, ConversationFactory
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db


def _contact(workspace, **fields) -> Contact:
    return ContactFactory(workspace=workspace, **{"phone": "", "email": "", **fields})


@pytest.fixture
def ana(workspace, agent_user):
    """Ana twice, each with a conversation the agent sees: on WhatsApp and on Instagram."""
    whatsapp = IntegrationFactory(workspace=workspace, platform="whatsapp")
    instagram = IntegrationFactory(workspace=workspace, platform="instagram")
    kept = _contact(workspace, name="Ana López", email="ana@shop.example")
    folded = _contact(workspace, name="ana", phone="5215512345678", email="ANA@shop.example")
    ContactIdentity.objects.create(contact=kept, integration=instagram, external_id="IGSID-1")
    ContactIdentity.objects.create(contact=folded, integration=whatsapp, external_id="52155")
    for contact, channel in ((kept, instagram), (folded, whatsapp)):
        ConversationFactory(
            workspace=workspace,
            contact=contact,
            integration=channel,
            platform=channel.platform,
            assigned_agent=agent_user,
        )
    Contact.objects.filter(pk=kept.pk).update(created_at=timezone.now() - timedelta(days=1))
    return {"kept": Contact.objects.get(pk=kept.pk), "folded": folded}


def _state() -> dict:
    return {
        "contacts": list(
            Contact.objects.order_by("pk").values("pk", "name", "phone", "email", "merged_into")
        ),
        "identities": list(ContactIdentity.objects.order_by("pk").values("pk", "contact_id")),
        "conversations": list(Conversation.objects.order_by("pk").values("pk", "contact_id")),
        "merges": list(ContactMerge.objects.order_by("pk").values("pk", "undone_at")),
        "dismissals": ContactDuplicateDismissal.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def _merge_url(contact) -> str:
    return f"/api/contacts/{contact.pk}/merge"


# --- suggestions ---------------------------------------------------------------------------------


def test_suggestions_list_both_contacts_and_why(admin_client, ana):
    response = admin_client.get("/api/contacts/duplicates")

    assert response.status_code == 200
    [pair] = response.json()
    assert pair["reasons"] == ["email"]
    assert pair["primary"] == {
        "id": str(ana["kept"].pk),
        "name": "Ana López",
        "phone": "",
        "email": "ana@shop.example",
        "avatar_url": "",
        "created_at": pair["primary"]["created_at"],
        "platforms": ["instagram"],
        "conversation_count": 1,
    }
    assert (pair["secondary"]["id"], pair["secondary"]["platforms"]) == (
        str(ana["folded"].pk),
        ["whatsapp"],
    )


def test_suggestions_cost_the_same_queries_for_one_pair_or_many(
    admin_client, workspace, ana, django_assert_num_queries
):
    # auth (user), the two shared-key groupings, the holders, dismissals, identities, counts
    with django_assert_num_queries(7):
        assert len(admin_client.get("/api/contacts/duplicates").json()) == 1
    for n in range(12):
        _contact(workspace, name=f"Twin {n}", email=f"twin{n}@shop.example")
        _contact(workspace, name=f"Twin {n}'", email=f"TWIN{n}@shop.example")
    with django_assert_num_queries(7):
        assert len(admin_client.get("/api/contacts/duplicates").json()) == 13


def test_one_contacts_suggestions_and_who_may_ask(admin_client, agent_client, outsider_client, ana):
    url = f"/api/contacts/duplicates?contact={ana['folded'].pk}"

    assert [p["secondary"]["id"] for p in admin_client.get(url).json()] == [str(ana["folded"].pk)]
    assert len(agent_client.get(url).json()) == 1
    assert outsider_client.get(url).status_code == 404
    assert outsider_client.get("/api/contacts/duplicates").json() == []


@pytest.mark.parametrize(
    ("query", "field"),
    [("contact=nope", "contact"), ("limit=0", "limit"), ("limit=201", "limit"), ("x=1", "x")],
)
def test_bad_suggestion_queries_are_400(admin_client, ana, query, field):
    response = admin_client.get(f"/api/contacts/duplicates?{query}")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


# --- merging -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "agent"])
def test_members_merge_contacts_they_see(request, who, ana, admin_user, agent_user):
    client = request.getfixturevalue(f"{who}_client")
    by = admin_user if who == "admin" else agent_user

    response = client.post(
        _merge_url(ana["kept"]), {"other_id": str(ana["folded"].pk)}, format="json"
    )

    assert response.status_code == 201
    merge = ContactMerge.objects.get()
    body = response.json()
    assert body == {
        "id": str(merge.pk),
        "primary": {
            "id": str(ana["kept"].pk),
            "name": "Ana López",
            "phone": "5215512345678",
            "email": "ana@shop.example",
            "avatar_url": "",
        },
        "secondary": {
            "id": str(ana["folded"].pk),
            "name": "ana",
            "phone": "5215512345678",
            "email": "ANA@shop.example",
            "avatar_url": "",
        },
        "merged_by": {"id": str(by.pk), "name": by.name, "email": by.email},
        "created_at": body["created_at"],
        "undo_until": body["undo_until"],
        "undoable": True,
        "undone_at": None,
        "undone_by": None,
        "identities_moved": 1,
        "conversations_moved": 1,
    }
    assert merge.undo_until - merge.created_at == timedelta(days=30)
    assert AuditEntry.objects.get(action=audit.CONTACT_MERGED).actor_user == by
    assert client.get(f"/api/contacts/{ana['folded'].pk}").status_code == 404
    assert client.get("/api/contacts/duplicates").json() == []


def test_an_agent_cannot_merge_a_contact_they_do_not_see(agent_client, ana, workspace, other_agent):
    hidden = _contact(workspace, name="Ana elsewhere", email="ana@shop.example")
    ConversationFactory(workspace=workspace, contact=hidden, assigned_agent=other_agent)
    before = _state()

    into_hidden = agent_client.post(
        _merge_url(hidden), {"other_id": str(ana["kept"].pk)}, format="json"
    )
    from_hidden = agent_client.post(
        _merge_url(ana["kept"]), {"other_id": str(hidden.pk)}, format="json"
    )

    assert into_hidden.status_code == 404
    assert from_hidden.status_code == 400
    assert from_hidden.json()["error"]["details"] == {"other_id": ["Not found."]}
    assert _state() == before


def test_another_workspace_can_neither_merge_nor_list(outsider_client, ana):
    before = _state()

    merged = outsider_client.post(
        _merge_url(ana["kept"]), {"other_id": str(ana["folded"].pk)}, format="json"
    )

    assert merged.status_code == 404
    assert merged.json()["error"]["code"] == "not_found"
    assert _state() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "other_id"),
        ({"other_id": "not-a-uuid"}, "other_id"),
        ({"other_id": None}, "other_id"),
        ({"other_id": str(uuid.uuid4())}, "other_id"),
        ({"other_id": "KEPT"}, "other_id"),
        ({"other_id": "FOLDED", "keep": "both"}, "keep"),
    ],
)
def test_bad_merge_bodies_are_400_and_change_nothing(admin_client, ana, body, field):
    names = {"KEPT": str(ana["kept"].pk), "FOLDED": str(ana["folded"].pk)}
    body = {key: names.get(value, value) for key, value in body.items()}
    before = _state()

    response = admin_client.post(_merge_url(ana["kept"]), body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert _state() == before


def test_merging_a_merged_contact_or_two_accounts_of_one_channel_is_refused(
    admin_client, ana, workspace
):
    instagram = ana["kept"].identities.get().integration
    second_account = _contact(workspace, name="Ana 2", email="ana@shop.example")
    ContactIdentity.objects.create(
        contact=second_account, integration=instagram, external_id="IGSID-2"
    )
    before = _state()

    same_channel = admin_client.post(
        _merge_url(ana["kept"]), {"other_id": str(second_account.pk)}, format="json"
    )

    assert same_channel.status_code == 409
    assert same_channel.json()["error"]["code"] == "contact_same_channel"
    assert _state() == before
    admin_client.post(_merge_url(ana["kept"]), {"other_id": str(ana["folded"].pk)}, format="json")
    again = admin_client.post(
        _merge_url(second_account), {"other_id": str(ana["folded"].pk)}, format="json"
    )
    assert again.status_code == 400  # the merged contact is nobody's to see any more
    assert ContactMerge.objects.count() == 1


# --- recent merges and undo ----------------------------------------------------------------------


@pytest.fixture
def merged_by_agent(ana, agent_user):
    return services.contact_merge(by=agent_user, primary=ana["kept"], secondary=ana["folded"])


def test_admins_list_every_merge_agents_their_own(
    admin_client, agent_client, outsider_client, merged_by_agent, workspace, admin_user
):
    other = services.contact_merge(
        by=admin_user,
        primary=_contact(workspace, name="Bo"),
        secondary=_contact(workspace, name="Bo 2"),
    )

    def ids(client):
        return [merge["id"] for merge in client.get("/api/contact-merges").json()["results"]]

    assert ids(admin_client) == [str(other.pk), str(merged_by_agent.pk)]
    assert ids(agent_client) == [str(merged_by_agent.pk)]
    assert ids(outsider_client) == []


def test_the_merge_list_costs_the_same_queries_for_one_or_many(
    admin_client, admin_user, workspace, merged_by_agent, django_assert_num_queries
):
    with django_assert_num_queries(2):  # the user, the page with its contacts and members
        assert len(admin_client.get("/api/contact-merges").json()["results"]) == 1
    for n in range(5):
        services.contact_merge(
            by=admin_user,
            primary=_contact(workspace, name=f"Keep {n}"),
            secondary=_contact(workspace, name=f"Fold {n}"),
        )
    with django_assert_num_queries(2):
        assert len(admin_client.get("/api/contact-merges").json()["results"]) == 6


def test_the_merger_and_admins_undo(agent_client, admin_client, merged_by_agent, ana, agent_user):
    url = f"/api/contact-merges/{merged_by_agent.pk}/undo"

    undone = agent_client.post(url)

    assert undone.status_code == 200
    assert undone.json()["undoable"] is False
    assert undone.json()["undone_at"] is not None
    assert Contact.objects.get(pk=ana["folded"].pk).merged_into_id is None
    assert admin_client.post(url).json()["error"]["code"] == "contact_merge_undone"
    again = services.contact_merge(
        by=agent_user,
        primary=Contact.objects.get(pk=ana["kept"].pk),
        secondary=Contact.objects.get(pk=ana["folded"].pk),
    )
    assert admin_client.post(f"/api/contact-merges/{again.pk}/undo").status_code == 200


def test_another_agent_or_workspace_cannot_undo(
    other_agent, outsider_client, merged_by_agent, admin_user
):
    url = f"/api/contact-merges/{merged_by_agent.pk}/undo"
    before = _state()

    assert api_client_for(other_agent).post(url).status_code == 404
    assert outsider_client.post(url).status_code == 404
    assert outsider_client.post(f"/api/contact-merges/{uuid.uuid4()}/undo").status_code == 404
    assert _state() == before


def test_undo_after_the_deadline_is_409_and_changes_nothing(admin_client, merged_by_agent):
    ContactMerge.objects.filter(pk=merged_by_agent.pk).update(
        undo_until=timezone.now() - timedelta(minutes=1)
    )
    before = _state()

    response = admin_client.post(f"/api/contact-merges/{merged_by_agent.pk}/undo")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "contact_merge_undo_expired"
    assert response.json()["error"]["message"] == (
        "This merge can no longer be undone: its undo period is over."
    )
    assert _state() == before
    listed = admin_client.get("/api/contact-merges").json()["results"]
    assert listed[0]["undoable"] is False


# --- dismissing ----------------------------------------------------------------------------------


def test_a_dismissed_pair_is_not_suggested_again(agent_client, admin_client, ana):
    ids = [str(ana["folded"].pk), str(ana["kept"].pk)]

    response = agent_client.post("/api/contacts/duplicates/dismiss", {"contact_ids": ids})
    again = admin_client.post(
        "/api/contacts/duplicates/dismiss", {"contact_ids": ids[::-1]}, format="json"
    )

    assert (response.status_code, again.status_code) == (204, 204)
    assert ContactDuplicateDismissal.objects.count() == 1
    assert admin_client.get("/api/contacts/duplicates").json() == []


@pytest.mark.parametrize(
    "ids",
    [
        ["KEPT"],
        ["KEPT", "KEPT"],
        ["KEPT", "FOLDED", "KEPT"],
        ["KEPT", str(uuid.uuid4())],
        ["KEPT", "nope"],
        "KEPT",
    ],
)
def test_bad_dismissals_are_400_and_change_nothing(admin_client, ana, ids):
    names = {"KEPT": str(ana["kept"].pk), "FOLDED": str(ana["folded"].pk)}
    body = [names.get(i, i) for i in ids] if isinstance(ids, list) else names[ids]
    before = _state()

    response = admin_client.post(
        "/api/contacts/duplicates/dismiss", {"contact_ids": body}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["contact_ids"]
    assert _state() == before


def test_another_workspace_cannot_dismiss(outsider_client, ana):
    before = _state()

    response = outsider_client.post(
        "/api/contacts/duplicates/dismiss",
        {"contact_ids": [str(ana["kept"].pk), str(ana["folded"].pk)]},
        format="json",
    )

    assert response.status_code == 400
    assert _state() == before


# --- API keys ------------------------------------------------------------------------------------


def test_keys_read_with_read_and_merge_with_contacts_write(admin_user, ana):
    _, read_secret = account_services.api_key_create(
        by=admin_user, name="Reports", scopes=[ApiKey.Scope.READ]
    )
    _, write_secret = account_services.api_key_create(
        by=admin_user, name="CRM", scopes=[ApiKey.Scope.READ, ApiKey.Scope.CONTACTS_WRITE]
    )
    reader, writer = key_client(read_secret), key_client(write_secret)
    body = {"other_id": str(ana["folded"].pk)}

    assert reader.get("/api/contacts/duplicates").status_code == 200
    before = _state()  # after the key's first use, which is audited
    refused = reader.post(_merge_url(ana["kept"]), body, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "insufficient_scope"
    assert _state() == before

    merged = writer.post(_merge_url(ana["kept"]), body, format="json")
    assert merged.status_code == 201
    undo_url = f"/api/contact-merges/{merged.json()['id']}/undo"
    assert reader.get("/api/contact-merges").status_code == 200
    assert reader.post(undo_url).status_code == 403
    assert writer.post(undo_url).status_code == 200
    entry = AuditEntry.objects.get(action=audit.CONTACT_MERGED)
    assert (entry.actor_type, entry.actor_user) == ("api_key", admin_user)
    assert api_keys.required_scope("POST", "/api/contact-merges/1/undo") == "contacts:write"
    assert api_keys.required_scope("GET", "/api/contact-merges") == "read"


def test_signed_out_requests_are_401(anonymous_client, ana):
    assert anonymous_client.get("/api/contacts/duplicates").status_code == 401
    assert anonymous_client.get("/api/contact-merges").status_code == 401
    response = anonymous_client.post(
        _merge_url(ana["kept"]), {"other_id": str(ana["folded"].pk)}, format="json"
    )
    assert response.status_code == 401
