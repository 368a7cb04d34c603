"""The inbox on a phone (390x844, a touch screen) and on a laptop (1440x900), as an agent and as
an admin, in a real Chromium against a real daphne.

On a phone the inbox is one pane at a time, list → thread → details, and the address follows
what is open: the on-screen back button and the browser's back button agree. Customer messages
are written from the test process through the service the webhooks use; they arrive over the
Redis channel layer the daphne process listens to.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD
from conversations.models import Message
from conversations.tests.test_inbox_browser import (
    LIVE,
    _assigned_conversation,
    _customer_writes,
    _item,
    _messages,
)
from flame.testing import (
    VIEWPORTS,
    assert_usable_at,
    browser_sign_in,
    context_options,
    watch_errors,
)
from integrations.tests.factories import IntegrationFactory

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SIZES = ["desktop", "phone"]
CUSTOMER = "+5215500000101"


_INBOX_FOLLOWS_THE_VISIBLE_HEIGHT = """(height) =>
  getComputedStyle(document.documentElement).getPropertyValue("--visible-height") === `${height}px`
  && document.querySelector("main.inbox-main").getBoundingClientRect().bottom === height"""


@pytest.fixture
def sandbox(workspace):
    workspace.language = "en"  # the assertions read English; the factories' speak Spanish
    workspace.save(update_fields=["language"])
    return IntegrationFactory(workspace=workspace, platform="sandbox", name="Sandbox")


@pytest.fixture
def carla(sandbox, admin_user, agent_user):
    return _assigned_conversation(
        sandbox, admin=admin_user, agent=agent_user, customer=CUSTOMER, name="Carla"
    )


@pytest.fixture
def device(chromium, live_app, request):
    """A page in a fresh context of ``request.param`` size; console errors fail the test.
    Closed before the server stops (hence live_app), or the page's socket would complain."""
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


def _open_inbox(page, live_app: str, user, path: str = "/inbox/") -> None:
    browser_sign_in(page, live_app, user.email, DEFAULT_PASSWORD)
    page.goto(f"{live_app}{path}")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "online")


def _conversation_url(live_app: str, conversation, suffix: str = "") -> re.Pattern:
    return re.compile(rf"^{re.escape(live_app)}/inbox/{conversation.pk}/{re.escape(suffix)}$")


def _reply(page, size: str, text: str) -> None:
    page.get_by_test_id("composer-input").fill(text)
    _press(page.get_by_test_id("composer-send"), size)
    expect(_messages(page).last.get_by_test_id("message-text")).to_have_text(text)


def _open_and_close_details(page, live_app: str, conversation) -> None:
    """Phone: the details cover the thread; the close button and the browser's back close them."""
    details, toggle = page.get_by_test_id("details-pane"), page.get_by_test_id("details-toggle")
    expect(details).to_be_hidden()

    toggle.tap()
    expect(page).to_have_url(_conversation_url(live_app, conversation, "#details"))
    expect(details).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_test_id("contact-name")).to_have_text("Carla")
    assert_usable_at(page, "phone")
    page.get_by_test_id("details-close").tap()
    expect(details).to_be_hidden()
    expect(page).to_have_url(_conversation_url(live_app, conversation))
    expect(page.get_by_test_id("composer-input")).to_be_visible()

    toggle.tap()
    expect(details).to_be_visible()
    page.go_back()
    expect(details).to_be_hidden()
    expect(page).to_have_url(_conversation_url(live_app, conversation))
    expect(page.get_by_test_id("thread-contact-name")).to_have_text("Carla")


def _showing_the_list(page, live_app: str, size: str) -> None:
    expect(page).to_have_url(f"{live_app}/inbox/")
    if size == "phone":
        expect(page.get_by_test_id("conversation-list")).to_be_visible()
        expect(page.get_by_test_id("thread-pane")).to_be_hidden()
    else:
        expect(page.get_by_test_id("thread-empty")).to_be_visible()


@pytest.mark.parametrize("device", SIZES, indirect=True)
@pytest.mark.parametrize("role", ["agent", "admin"])
def test_list_thread_details_and_back(
    device, live_app, sandbox, carla, admin_user, agent_user, role
):
    size, page = device
    user = admin_user if role == "admin" else agent_user
    _open_inbox(page, live_app, user)
    assert_usable_at(page, size)

    # list → thread: the address names the conversation
    _press(_item(page, carla), size)
    expect(page).to_have_url(_conversation_url(live_app, carla))
    expect(page.get_by_test_id("thread-contact-name")).to_have_text("Carla")
    expect(_messages(page)).to_have_count(1)
    conversation_list = expect(page.get_by_test_id("conversation-list"))
    if size == "phone":
        conversation_list.to_be_hidden()  # one pane at a time
    else:
        conversation_list.to_be_visible()
    assert_usable_at(page, size)

    # a reply, and the customer's answer arriving live
    _reply(page, size, "It ships today.")
    stored = Message.objects.get(conversation=carla, sender=Message.Sender.AGENT)
    assert (stored.content, stored.author_id) == ("It ships today.", user.pk)
    _customer_writes(sandbox, CUSTOMER, "Thank you!")
    expect(_messages(page)).to_have_count(3, timeout=LIVE)
    expect(_messages(page).last).to_have_attribute("data-sender", "user")

    # the details: a drawer on the phone, always beside the thread on the laptop
    if size == "phone":
        _open_and_close_details(page, live_app, carla)
    else:
        expect(page.get_by_test_id("details-pane")).to_be_visible()
        expect(page.get_by_test_id("details-toggle")).to_be_hidden()
        expect(page.get_by_test_id("details-close")).to_be_hidden()

    # back to the list: the on-screen button on the phone (the list is beside it on a laptop)
    back = page.get_by_test_id("thread-back")
    if size == "phone":
        back.tap()
    else:
        expect(back).to_be_hidden()
        page.go_back()
    _showing_the_list(page, live_app, size)

    # and with the browser's back button; forward opens the conversation again
    _press(_item(page, carla), size)
    expect(page).to_have_url(_conversation_url(live_app, carla))
    page.go_back()
    _showing_the_list(page, live_app, size)
    page.go_forward()
    expect(page).to_have_url(_conversation_url(live_app, carla))
    expect(page.get_by_test_id("composer-input")).to_be_visible()
    expect(_messages(page)).to_have_count(3)


@pytest.mark.parametrize("device", ["phone"], indirect=True)
def test_a_linked_conversation_goes_back_to_the_list_and_opens_its_details(
    device, live_app, carla, agent_user
):
    _size, page = device
    # given a link to the conversation with its details open (a notification, a colleague)
    _open_inbox(page, live_app, agent_user, f"/inbox/{carla.pk}/#details")
    expect(page.get_by_test_id("details-pane")).to_be_visible()

    # when the details close and the agent goes back
    page.get_by_test_id("details-close").tap()
    expect(page).to_have_url(_conversation_url(live_app, carla))
    page.get_by_test_id("thread-back").tap()

    # then the list shows, though the page was not opened from it
    _showing_the_list(page, live_app, "phone")
    expect(_item(page, carla)).to_be_visible()


@pytest.mark.parametrize("device", ["phone"], indirect=True)
def test_the_composer_stays_above_the_on_screen_keyboard(device, live_app, carla, agent_user):
    _size, page = device
    _open_inbox(page, live_app, agent_user, f"/inbox/{carla.pk}/")
    viewport = page.locator("meta[name=viewport]").get_attribute("content")
    # Chrome shrinks the page (not only what is visible) when the keyboard opens
    assert "interactive-widget=resizes-content" in viewport

    # when the keyboard takes the lower half of the screen
    composer = page.get_by_test_id("composer-input")
    composer.tap()
    keyboard_open = {"width": VIEWPORTS["phone"]["width"], "height": 420}
    page.set_viewport_size(keyboard_open)
    page.wait_for_function(_INBOX_FOLLOWS_THE_VISIBLE_HEIGHT, arg=keyboard_open["height"])

    # then the reply box, its button and the newest message are all in view above it
    for testid in ("composer-input", "composer-send", "thread-header"):
        box = page.get_by_test_id(testid).bounding_box()
        assert box["y"] >= 0, testid
        assert box["y"] + box["height"] <= keyboard_open["height"], testid
    expect(_messages(page).last).to_be_in_viewport()
    assert_usable_at(page, "phone")

    # a touch keyboard has no Shift+Enter: Enter starts a line, the button sends
    composer.fill("Line one")
    composer.press("Enter")
    composer.press_sequentially("Line two")
    expect(_messages(page)).to_have_count(1)
    page.get_by_test_id("composer-send").tap()
    expect(_messages(page).last.get_by_test_id("message-text")).to_have_text("Line one\nLine two")
