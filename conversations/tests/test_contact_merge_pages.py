"""The duplicate contacts page: suggestions with Merge and Not the same person, recent merges
with Undo; server-rendered forms (CSRF), the same rules as the API, refusals change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

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


@pytest.fixture(autouse=True)
def _english(workspace):
    workspace.language = "en"  # the factories' workspaces speak Spanish
    workspace.save(update_fields=["language"])


PAGE = "/inbox/contacts/duplicates/"


@pytest.fixture
def ana(workspace, agent_user):
    whatsapp = IntegrationFactory(workspace=workspace, platform="whatsapp")
    kept = ContactFactory(workspace=workspace, name="Ana López", phone="", email="ana@shop.example")
    folded = ContactFactory(workspace=workspace, name="Ana WA", phone="5215512345678", email="")
    Contact.objects.filter(pk=folded.pk).update(email="ANA@shop.example")
    ContactIdentity.objects.create(
        contact=folded, integration=whatsapp, external_id="5215512345678"
    )
    for contact in (kept, folded):
        ConversationFactory(workspace=workspace, contact=contact, assigned_agent=agent_user)
    Contact.objects.filter(pk=kept.pk).update(created_at=timezone.now() - timedelta(days=1))
    return {"kept": kept, "folded": Contact.objects.get(pk=folded.pk)}


def _state() -> dict:
    return {
        "contacts": list(Contact.objects.order_by("pk").values("pk", "merged_into", "email")),
        "conversations": list(Conversation.objects.order_by("pk").values("pk", "contact_id")),
        "merges": list(ContactMerge.objects.values("pk", "undone_at")),
        "dismissals": ContactDuplicateDismissal.objects.count(),
    }


def _pair(ana, keep) -> dict:
    return {"first": ana["kept"].pk, "second": ana["folded"].pk, "keep": keep.pk}


def test_the_page_lists_the_pair_for_agents_and_admins(client, agent_user, admin_user, ana):
    for member in (agent_user, admin_user):
        client.force_login(member)
        response = client.get(PAGE)
        page = response.content.decode()

        assert response.status_code == 200
        assert page.count('data-testid="duplicate-pair"') == 1
        assert "Ana López" in page
        assert "Ana WA" in page
        assert "Same e-mail address" in page
        assert "WhatsApp" in page
        assert 'name="csrfmiddlewaretoken"' in page


def test_signed_out_visitors_are_sent_to_sign_in(client, ana):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_one_contacts_suggestions_and_a_contact_not_seen(client, agent_user, ana, workspace):
    other = ContactFactory(workspace=workspace, name="Bo", email="bo@shop.example")
    ContactFactory(workspace=workspace, name="Bo 2", email="bo@shop.example")
    ConversationFactory(workspace=workspace, contact=other)  # unassigned: not the agent's
    client.force_login(agent_user)

    focused = client.get(f"{PAGE}?contact={ana['folded'].pk}").content.decode()
    unseen = client.get(f"{PAGE}?contact={other.pk}").content.decode()
    garbage = client.get(f"{PAGE}?contact=nope")

    assert 'data-testid="duplicates-focus"' in focused
    assert focused.count('data-testid="duplicate-pair"') == 1
    assert 'data-testid="duplicates-focus"' not in unseen  # every suggestion they see instead
    assert "Bo 2" not in unseen
    assert garbage.status_code == 200


def test_merging_keeps_the_contact_chosen(client, agent_user, ana):
    client.force_login(agent_user)

    response = client.post(reverse("contact-duplicates-merge"), _pair(ana, keep=ana["folded"]))

    assert response.status_code == 302
    assert response["Location"] == PAGE
    merge = ContactMerge.objects.get()
    assert (merge.primary_id, merge.secondary_id) == (ana["folded"].pk, ana["kept"].pk)
    assert Conversation.objects.filter(contact=ana["folded"]).count() == 2
    page = client.get(PAGE).content.decode()
    assert "Ana López was merged into Ana WA. You can undo it until" in page
    assert page.count('data-testid="contact-merge"') == 1
    assert 'data-testid="merge-undo"' in page


@pytest.mark.parametrize(
    "body",
    [
        "EMPTY",
        "GARBAGE",
        "KEEP_OTHER",
        "NO_KEEP",
        "OUTSIDER",
    ],
)
def test_refused_merges_show_the_page_again_and_change_nothing(
    client, agent_user, ana, outsider, body
):
    stranger = ContactFactory(workspace=outsider.workspace, email="ana@shop.example")
    bodies = {
        "EMPTY": {},
        "GARBAGE": {"first": "nope", "second": "x", "keep": "y"},
        "KEEP_OTHER": {**_pair(ana, ana["kept"]), "keep": stranger.pk},
        "NO_KEEP": {"first": ana["kept"].pk, "second": ana["folded"].pk},
        "OUTSIDER": {"first": ana["kept"].pk, "second": stranger.pk, "keep": ana["kept"].pk},
    }
    client.force_login(agent_user)
    before = _state()

    response = client.post(reverse("contact-duplicates-merge"), bodies[body])

    assert response.status_code == 400
    assert 'data-testid="page-error"' in response.content.decode()
    assert _state() == before


def test_a_service_refusal_is_shown_in_words(client, admin_user, ana, workspace):
    whatsapp = ana["folded"].identities.get().integration
    second = ContactFactory(workspace=workspace, name="Ana 2", email="ana@shop.example")
    ContactIdentity.objects.create(contact=second, integration=whatsapp, external_id="5215500")
    client.force_login(admin_user)
    before = _state()

    response = client.post(
        reverse("contact-duplicates-merge"),
        {"first": ana["folded"].pk, "second": second.pk, "keep": second.pk},
    )

    assert response.status_code == 409
    assert "Both contacts have their own account on the same channel" in response.content.decode()
    assert _state() == before


def test_not_the_same_person(client, agent_user, ana):
    client.force_login(agent_user)

    response = client.post(reverse("contact-duplicates-dismiss"), _pair(ana, ana["kept"]))

    assert response.status_code == 302
    assert ContactDuplicateDismissal.objects.count() == 1
    assert 'data-testid="duplicate-pair"' not in client.get(PAGE).content.decode()


def test_undo_from_the_page(client, agent_user, other_agent, admin_user, ana):
    merge = services.contact_merge(by=agent_user, primary=ana["kept"], secondary=ana["folded"])
    url = reverse("contact-merge-undo-page", args=[merge.pk])

    client.force_login(other_agent)  # neither an admin nor who merged: not theirs to see
    assert 'data-testid="contact-merge"' not in client.get(PAGE).content.decode()
    assert client.post(url).status_code == 404
    assert ContactMerge.objects.get().undone_at is None

    client.force_login(agent_user)
    response = client.post(url)

    assert response.status_code == 302
    assert Contact.objects.get(pk=ana["folded"].pk).merged_into_id is None
    page = client.get(PAGE).content.decode()
    assert "The merge was undone: Ana WA is a contact of its own again." in page
    assert 'data-testid="merge-undone"' in page
    client.force_login(admin_user)
    again = client.post(url)
    assert again.status_code == 409
    assert "This merge was undone already." in again.content.decode()


def test_an_expired_merge_offers_no_undo(client, admin_user, ana):
    merge = services.contact_merge(by=admin_user, primary=ana["kept"], secondary=ana["folded"])
    ContactMerge.objects.filter(pk=merge.pk).update(undo_until=timezone.now() - timedelta(days=1))
    client.force_login(admin_user)

    page = client.get(PAGE).content.decode()
    refused = client.post(reverse("contact-merge-undo-page", args=[merge.pk]))

    assert 'data-testid="merge-undo"' not in page
    assert 'data-testid="merge-final"' in page
    assert refused.status_code == 409
    assert ContactMerge.objects.get().undone_at is None


def test_forms_need_the_csrf_token(agent_user, ana):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent_user)

    response = client.post(reverse("contact-duplicates-merge"), _pair(ana, ana["kept"]))

    assert response.status_code == 403
    assert not ContactMerge.objects.exists()


def test_the_inbox_and_the_workspace_settings_link_to_the_page(client, admin_user, ana):
    client.force_login(admin_user)

    inbox = client.get("/inbox/").content.decode()
    settings_page = client.get(reverse("settings-workspace")).content.decode()

    assert 'data-testid="contact-duplicate"' in inbox
    assert f'href="{PAGE}"' in settings_page
