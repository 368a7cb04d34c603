"""The workbench's settings pages in a real Chromium at 1440x900 and 390x844: each fits, every
control is within reach (44 px on the phone), and its main action works from the page."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD
from conversations.models import ContactAttribute, Tag
from conversations.tests.factories import ConversationFactory, TagFactory
from flame.testing import assert_usable_at, browser_sign_in, context_options, watch_errors
from integrations.tests.factories import IntegrationFactory
from workbench.models import ChannelAssignment, NotificationPreference, SavedReply

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SIZES = ["desktop", "phone"]


@contextmanager
def _device(chromium, size: str):
    context = chromium.new_context(**context_options(size))
    errors = watch_errors(context)
    try:
        yield context.new_page()
    finally:
        context.close()
    assert errors == [], f"browser console errors: {errors}"


@pytest.fixture
def shop(workspace, agent_user):
    workspace.language = "en"
    workspace.save(update_fields=["language"])
    channel = IntegrationFactory(workspace=workspace, platform="sandbox", name="Shop sandbox")
    vip = TagFactory(workspace=workspace, name="vip")
    TagFactory(workspace=workspace, name="gold")
    ConversationFactory(workspace=workspace, assigned_agent=agent_user).tags.add(vip)
    attribute = ContactAttribute.objects.create(workspace=workspace, key="plan", label="Plan")
    reply = SavedReply.objects.create(
        workspace=workspace, short_code="hours", content="We open at " + "9" * 120
    )
    return {"channel": channel, "tag": vip, "attribute": attribute, "reply": reply}


def _admin_pages(shop) -> list[str]:
    return [
        reverse("settings-notifications"),
        reverse("settings-saved-replies"),
        reverse("settings-saved-reply", args=[shop["reply"].pk]),
        reverse("settings-assignment"),
        reverse("settings-tags"),
        reverse("settings-tag-delete", args=[shop["tag"].pk]),
        reverse("settings-contact-attributes"),
        reverse("settings-contact-attribute-delete", args=[shop["attribute"].pk]),
        reverse("settings-workspace"),
    ]


@pytest.mark.parametrize("size", SIZES)
def test_every_workbench_page_fits_with_the_bell_open(
    chromium, live_app, shop, admin_user, agent_user, size
):
    with _device(chromium, size) as page:
        browser_sign_in(page, live_app, admin_user.email, DEFAULT_PASSWORD)
        for path in _admin_pages(shop):
            page.goto(f"{live_app}{path}")
            page.wait_for_load_state("networkidle")
            assert page.url == f"{live_app}{path}", path
            try:
                assert_usable_at(page, size)
            except AssertionError as error:
                raise AssertionError(f"{path}: {error}") from error
        page.get_by_test_id("bell-button").click()
        expect(page.get_by_test_id("bell-panel")).to_be_visible()
        expect(page.get_by_test_id("bell-empty")).to_be_visible()
        assert_usable_at(page, size)

    with _device(chromium, size) as page:
        browser_sign_in(page, live_app, agent_user.email, DEFAULT_PASSWORD)
        for name in ("settings-notifications", "settings-saved-replies"):
            page.goto(f"{live_app}{reverse(name)}")
            page.wait_for_load_state("networkidle")
            assert_usable_at(page, size)


@pytest.mark.parametrize("size", SIZES)
def test_an_agent_keeps_preferences_and_a_saved_reply(chromium, live_app, shop, agent_user, size):
    with _device(chromium, size) as page:
        browser_sign_in(page, live_app, agent_user.email, DEFAULT_PASSWORD)
        page.goto(f"{live_app}{reverse('settings-notifications')}")
        page.get_by_label("Play a sound for new messages when the tab is in the background").check()
        page.get_by_test_id("preferences-save").click()
        expect(page.locator(".flash")).to_contain_text("Notification preferences saved.")

        page.goto(f"{live_app}{reverse('settings-saved-replies')}")
        page.get_by_label("Short code").fill("bye")
        page.get_by_label("Text").fill("Bye {{contact.first_name}}!")
        page.get_by_test_id("saved-reply-add").click()
        expect(page.get_by_test_id("saved-reply-row")).to_have_count(2)

    assert NotificationPreference.objects.get(user=agent_user).sound is True
    assert SavedReply.objects.get(short_code="bye").owner_id == agent_user.pk


@pytest.mark.parametrize("size", SIZES)
def test_an_admin_switches_auto_assignment_and_merges_tags(
    chromium, live_app, shop, admin_user, size
):
    with _device(chromium, size) as page:
        browser_sign_in(page, live_app, admin_user.email, DEFAULT_PASSWORD)
        page.goto(f"{live_app}{reverse('settings-workspace')}")
        page.get_by_test_id("link-assignment").click()
        page.get_by_test_id("auto-assign-on").click()
        expect(page.get_by_test_id("auto-assign-off")).to_be_visible()

        page.goto(f"{live_app}{reverse('settings-tags')}")
        row = page.locator("[data-testid=tag-row][data-name=vip]")
        row.get_by_test_id("tag-merge-into").select_option(label="gold")
        row.get_by_test_id("tag-merge").click()
        expect(page.get_by_test_id("tag-row")).to_have_count(1)

    assert ChannelAssignment.objects.get(integration=shop["channel"]).auto_assign is True
    assert list(Tag.objects.values_list("name", flat=True)) == ["gold"]
