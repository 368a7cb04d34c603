"""Duplicate contacts in a real Chromium against a real daphne, on a laptop (1440x900) and a
phone (390x844): from the inbox's "Possible duplicate" link to the page, a merge keeping the
contact chosen, and its undo; and an open inbox following a merge live."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD
from conversations import services
from conversations.models import Contact, ContactMerge, Conversation
from conversations.tests.factories import ContactFactory, ConversationFactory
from conversations.tests.test_inbox_browser import LIVE, _assigned_conversation
from flame.testing import assert_usable_at, browser_sign_in, context_options, watch_errors
from integrations.tests.factories import IntegrationFactory

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SIZES = ["desktop", "phone"]
CUSTOMER = "+5215500000777"


@pytest.fixture
def carla_twice(workspace, admin_user, agent_user):
    """Carla as the sandbox channel made her (she wrote), and Carla Gómez as an agent typed
    her in; both with a conversation of the agent's, sharing an e-mail address."""
    workspace.language = "en"  # the assertions read English; the factories' speak Spanish
    workspace.save(update_fields=["language"])
    sandbox = IntegrationFactory(workspace=workspace, platform="sandbox", name="Sandbox")
    written = _assigned_conversation(
        sandbox, admin=admin_user, agent=agent_user, customer=CUSTOMER, name="Carla"
    )
    Contact.objects.filter(pk=written.contact_id).update(email="carla@shop.example")
    typed = ContactFactory(workspace=workspace, name="Carla Gómez", email="CARLA@shop.example")
    ConversationFactory(workspace=workspace, contact=typed, assigned_agent=agent_user)
    return {"conversation": written, "written": written.contact, "typed": typed}


@pytest.fixture
def device(chromium, live_app, request):
    context = chromium.new_context(**context_options(request.param))
    errors = watch_errors(context)
    yield request.param, context.new_page()
    context.close()
    assert errors == [], f"browser console errors: {errors}"


def _press(locator, size: str) -> None:
    if size == "phone":
        locator.tap()
    else:
        locator.click()


@pytest.mark.parametrize("device", SIZES, indirect=True)
def test_merge_and_undo_from_the_inbox(device, live_app, carla_twice, agent_user):
    size, page = device
    conversation, written, typed = (carla_twice[k] for k in ("conversation", "written", "typed"))
    browser_sign_in(page, live_app, agent_user.email, DEFAULT_PASSWORD)
    page.goto(f"{live_app}/inbox/{conversation.pk}/")
    if size == "phone":
        page.get_by_test_id("details-toggle").tap()

    # the contact panel says there may be a duplicate, and leads to it
    link = page.get_by_test_id("contact-duplicate")
    expect(link).to_be_visible(timeout=LIVE)
    _press(link, size)
    expect(page).to_have_url(re.compile(rf"/inbox/contacts/duplicates/\?contact={written.pk}$"))
    pair = page.get_by_test_id("duplicate-pair")
    expect(pair).to_have_count(1)
    expect(pair.get_by_test_id("duplicate-reason")).to_have_text("Same e-mail address")
    page.wait_for_load_state()
    assert_usable_at(page, size)

    # the agent keeps Carla Gómez (the one typed in) and merges
    choice = pair.locator(f"[data-testid=duplicate-contact][data-id='{typed.pk}']")
    _press(choice, size)
    expect(choice.get_by_test_id("duplicate-keep")).to_be_checked()
    _press(pair.get_by_test_id("duplicate-merge"), size)
    expect(page.locator(".flash")).to_contain_text(
        "Carla was merged into Carla Gómez. You can undo it until"
    )
    merge = ContactMerge.objects.get()
    assert (merge.primary_id, merge.secondary_id) == (typed.pk, written.pk)
    assert Conversation.objects.get(pk=conversation.pk).contact_id == typed.pk
    expect(page.get_by_test_id("duplicate-pair")).to_have_count(0)
    row = page.get_by_test_id("contact-merge")
    expect(row).to_have_count(1)
    assert_usable_at(page, size)

    # and undoes it
    _press(row.get_by_test_id("merge-undo"), size)
    expect(page.locator(".flash")).to_contain_text(
        "The merge was undone: Carla is a contact of its own again."
    )
    expect(page.get_by_test_id("merge-undone")).to_be_visible()
    expect(page.get_by_test_id("duplicate-pair")).to_have_count(1)
    assert Conversation.objects.get(pk=conversation.pk).contact_id == written.pk
    assert ContactMerge.objects.get().undone_by == agent_user
    assert_usable_at(page, size)


def test_an_open_inbox_follows_a_merge_live(live_app, browser_context, carla_twice, admin_user):
    conversation, written, typed = (carla_twice[k] for k in ("conversation", "written", "typed"))
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1440, "height": 900})
    browser_sign_in(page, live_app, admin_user.email, DEFAULT_PASSWORD)
    page.goto(f"{live_app}/inbox/{conversation.pk}/")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "online")
    expect(page.get_by_test_id("contact-name")).to_have_text("Carla")
    expect(page.get_by_test_id("contact-duplicate")).to_be_visible()

    # someone merges Carla into Carla Gómez elsewhere
    merge = services.contact_merge(by=admin_user, primary=typed, secondary=written)

    expect(page.get_by_test_id("contact-name")).to_have_text("Carla Gómez", timeout=LIVE)
    expect(page.get_by_test_id("thread-contact-name")).to_have_text("Carla Gómez")
    expect(page.get_by_test_id("identity-external-id")).to_have_text(CUSTOMER)
    expect(page.get_by_test_id("contact-duplicate")).to_be_hidden()

    # and back
    services.contact_merge_undo(by=admin_user, merge=merge)
    expect(page.get_by_test_id("contact-name")).to_have_text("Carla", timeout=LIVE)
    expect(page.get_by_test_id("contact-duplicate")).to_be_visible(timeout=LIVE)
