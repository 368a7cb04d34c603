"""Every page on a phone (390x844, a touch screen) and on a laptop (1440x900), signed in as an
agent and as an admin, in a real Chromium against a real daphne: no sideways scrolling, controls
a finger can hit, form text large enough not to zoom, and every destination of the main
navigation one tap away. The narrowest and widest phones the layout is built for (360 and 430
px) get the same checks."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.emails import password_token_for, signup_token_for
from accounts.models import DateOverride, HolidayFeed, User, Workspace
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from assistants.tests.factories import (
    AIAssistantFactory,
    KnowledgeDocumentFactory,
    ScheduleFactory,
)
from conversations.tests.factories import ConversationFactory, MessageFactory
from flame.testing import (
    PHONE_WIDTHS,
    VIEWPORTS,
    assert_usable_at,
    browser_sign_in,
    context_options,
    watch_errors,
)
from integrations.tests.factories import IntegrationFactory
from integrations.tests.test_whatsapp import whatsapp_integration

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SIZES = ["desktop", "phone"]
NAVIGATION = {
    "agent": ["inbox", "dashboard"],
    "admin": ["inbox", "dashboard", "assistants", "integrations", "agents", "workspace", "billing"],
}
DESTINATIONS = {
    "inbox": "/inbox/",
    "dashboard": "/dashboard/",
    "assistants": "/settings/assistants/",
    "integrations": "/settings/integrations/",
    "agents": "/settings/agents/",
    "workspace": "/settings/workspace/",
    "billing": "/settings/billing/",
}


@contextmanager
def _device(chromium, size: str, **options):
    context = chromium.new_context(**{**context_options(size), **options})
    errors = watch_errors(context)
    try:
        yield context.new_page()
    finally:
        context.close()
    assert errors == [], f"browser console errors: {errors}"


@pytest.fixture
def shop(workspace, admin_user, agent_user):
    """A workspace with something on every page: an AI assistant with hours and knowledge, the
    sandbox channel it answers, and a conversation assigned to the agent."""
    workspace.language = "en"  # the factories' workspaces speak Spanish
    workspace.save(update_fields=["language"])
    assistant = AIAssistantFactory(workspace=workspace, name="Front desk", schedule_mode="inside")
    schedule = ScheduleFactory(
        assistant=assistant, day_of_week=5, start_time=time(22), end_time=time(2)
    )
    document = KnowledgeDocumentFactory(assistant=assistant, title="Opening hours")
    channel = IntegrationFactory(
        workspace=workspace, name="Shop sandbox", default_assistant=assistant
    )
    whatsapp = whatsapp_integration(workspace, name="Shop WhatsApp")
    conversation = ConversationFactory(workspace=workspace, assigned_agent=agent_user)
    MessageFactory(conversation=conversation, content="Do you deliver on Sundays?")
    # one customer twice (the duplicate contacts page has a pair to show)
    for email in ("ana@shop.example", "ANA@shop.example"):
        ConversationFactory(workspace=workspace, assigned_agent=agent_user, contact__email=email)
    UserFactory(workspace=workspace, role="agent", email="pending@a.example", is_pending=True)
    feed = HolidayFeed.objects.create(
        workspace=workspace,
        name="Public holidays",
        url="https://calendar.example/" + "long-path/" * 12 + "holidays.ics",
        last_fetched_at=timezone.now(),
        last_error="The server answered 404.",
    )
    holiday = DateOverride.objects.create(
        workspace=workspace, date=timezone.localdate() + timedelta(days=3), name="Founders' day"
    )
    DateOverride.objects.create(
        workspace=workspace,
        date=timezone.localdate() + timedelta(days=9),
        name="Independence day and a long holiday name that wraps on a phone",
        source="feed",
        feed=feed,
    )
    return {
        "holiday": holiday,
        "assistant": assistant,
        "schedule": schedule,
        "document": document,
        "channel": channel,
        "whatsapp": whatsapp,
        "conversation": conversation,
        "agent": agent_user,
    }


def _member_pages(shop) -> list[str]:
    return [
        "/inbox/",
        reverse("inbox-conversation", args=[shop["conversation"].pk]),
        "/dashboard/",
        reverse("settings-notifications"),
        reverse("settings-saved-replies"),
        reverse("contact-duplicates-page"),
    ]


def _admin_pages(shop) -> list[str]:
    assistant, channel = shop["assistant"].pk, shop["channel"].pk
    return [
        *_member_pages(shop),
        reverse("settings-assistants"),
        reverse("settings-assistant-create"),
        reverse("settings-assistant", args=[assistant]),
        reverse("settings-assistant-schedules", args=[assistant]),
        reverse("settings-assistant-schedule", args=[assistant, shop["schedule"].pk]),
        reverse("settings-assistant-knowledge", args=[assistant]),
        reverse("settings-assistant-document", args=[assistant, shop["document"].pk]),
        reverse("settings-assistant-playground", args=[assistant]),
        reverse("settings-assistant-delete", args=[assistant]),
        reverse("settings-integrations"),
        reverse("settings-integration-new"),
        reverse("settings-integration-create", args=["whatsapp"]),
        reverse("settings-integration", args=[channel]),
        reverse("settings-integration-edit", args=[channel]),
        reverse("settings-integration-delete", args=[channel]),
        reverse("settings-agents"),
        reverse("settings-agent-deactivate", args=[shop["agent"].pk]),
        reverse("settings-workspace"),
        reverse("settings-integration-templates", args=[shop["whatsapp"].pk]),
        reverse("settings-assignment"),
        reverse("settings-tags"),
        reverse("settings-contact-attributes"),
        reverse("settings-billing"),
        reverse("settings-api-keys"),
        reverse("settings-audit-log"),
        reverse("settings-webhooks"),
        reverse("settings-holidays"),
        reverse("settings-holiday", args=[shop["holiday"].pk]),
    ]


def _open(page, base_url: str, path: str) -> None:
    page.goto(f"{base_url}{path}")
    page.wait_for_load_state("networkidle")
    if path == "/dashboard/":  # the figures (and their table) arrive from the API
        expect(page.get_by_test_id("dashboard")).to_have_attribute("data-state", "ready")


def _check_every_page(page, base_url: str, paths: list[str], size: str) -> None:
    for path in paths:
        _open(page, base_url, path)
        assert page.url == f"{base_url}{path}", path  # no redirect, no refusal
        try:
            assert_usable_at(page, size)
        except AssertionError as error:
            raise AssertionError(f"{path}: {error}") from error


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("role", ["agent", "admin"])
def test_every_page_fits_and_is_touch_friendly(chromium, live_app, shop, admin_user, role, size):
    user = admin_user if role == "admin" else shop["agent"]
    paths = _admin_pages(shop) if role == "admin" else _member_pages(shop)
    with _device(chromium, size) as page:
        browser_sign_in(page, live_app, user.email, DEFAULT_PASSWORD)
        _check_every_page(page, live_app, paths, size)


@pytest.mark.parametrize("width", PHONE_WIDTHS)
def test_the_narrowest_and_widest_phones_fit_too(chromium, live_app, shop, admin_user, width):
    viewport = {"width": width, "height": 800}
    with _device(chromium, "phone", viewport=viewport) as page:
        browser_sign_in(page, live_app, admin_user.email, DEFAULT_PASSWORD)
        for path in _admin_pages(shop):
            _open(page, live_app, path)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, path


@pytest.mark.parametrize("size", SIZES)
def test_signed_out_pages_fit_and_are_touch_friendly(chromium, live_app, agent_user, size):
    workspace = Workspace.objects.create(name="Tacos Fer", settings={"signup_pending": True})
    founder = User.objects.create_user(
        email="founder@shop.example", role="admin", workspace=workspace, is_pending=True
    )
    paths = [
        "/login/",
        "/forgot-password/",
        f"/reset-password/{password_token_for(agent_user)}/",
        f"/signup/confirm/{signup_token_for(founder)}/",
    ]
    with _device(chromium, size) as page:
        _check_every_page(page, live_app, paths, size)
        # the answer to a reset request, and a refused sign-in with its error
        page.goto(f"{live_app}/forgot-password/")
        page.fill("input[name=email]", agent_user.email)
        page.get_by_role("button", name="Send me a link").click()
        expect(page.get_by_test_id("reset-sent")).to_be_visible()
        page.wait_for_load_state()  # its stylesheet too
        assert_usable_at(page, size)
        page.goto(f"{live_app}/login/")
        page.fill("input[name=email]", agent_user.email)
        page.fill("input[name=password]", "not the password")
        page.get_by_test_id("login-submit").click()
        expect(page.get_by_test_id("form-error")).to_be_visible()
        page.wait_for_load_state()
        assert_usable_at(page, size)


def _reach(page, size: str, destination: str) -> None:
    link = page.get_by_test_id(f"nav-{destination}")
    if size == "desktop":
        link.click()
        return
    toggle = page.get_by_test_id("nav-toggle")
    expect(link).to_be_hidden()  # folded away until asked for
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.tap()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    link.tap()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("role", ["agent", "admin"])
def test_every_destination_is_one_tap_away(chromium, live_app, shop, admin_user, role, size):
    user = admin_user if role == "admin" else shop["agent"]
    with _device(chromium, size) as page:
        browser_sign_in(page, live_app, user.email, DEFAULT_PASSWORD)
        page.goto(f"{live_app}/settings/agents/" if role == "admin" else f"{live_app}/dashboard/")
        shown = page.get_by_test_id("mainnav").locator("a")
        expect(shown).to_have_count(len(NAVIGATION[role]))

        for destination in NAVIGATION[role]:
            _reach(page, size, destination)
            page.wait_for_url(f"{live_app}{DESTINATIONS[destination]}")
            current = page.get_by_test_id(f"nav-{destination}")
            expect(current).to_have_attribute("aria-current", "page")


def test_the_phone_menu_closes_on_escape_and_on_a_tap_outside(chromium, live_app, admin_user):
    with _device(chromium, "phone") as page:
        browser_sign_in(page, live_app, admin_user.email, DEFAULT_PASSWORD)
        page.goto(f"{live_app}/settings/workspace/")
        toggle, menu = page.get_by_test_id("nav-toggle"), page.get_by_test_id("topbar-menu")

        toggle.tap()
        expect(menu).to_be_visible()
        # the whole menu (destinations, language, sign-out) fits beside the page
        assert_usable_at(page, "phone")
        page.keyboard.press("Escape")
        expect(menu).to_be_hidden()
        expect(toggle).to_be_focused()

        # a tap on the page below the menu closes it, and does nothing else
        toggle.tap()
        expect(menu).to_be_visible()
        phone = VIEWPORTS["phone"]
        page.touchscreen.tap(phone["width"] // 2, phone["height"] - 20)
        expect(menu).to_be_hidden()
        expect(toggle).to_have_attribute("aria-expanded", "false")
        assert page.url == f"{live_app}/settings/workspace/"

        toggle.tap()  # the second tap on the button folds it again
        toggle.tap()
        expect(menu).to_be_hidden()


_CANVAS_WIDER_THAN = """([chart, width]) =>
  document.querySelector(`canvas[data-chart=${chart}]`).clientWidth > width"""
_CANVAS_NARROWER_THAN = """([chart, width]) =>
  document.querySelector(`canvas[data-chart=${chart}]`).clientWidth < width"""


def _canvas_width(page, chart: str) -> float:
    return page.locator(f"canvas[data-chart={chart}]").bounding_box()["width"]


def test_dashboard_charts_follow_the_screen(chromium, live_app, shop, admin_user):
    phone_width = VIEWPORTS["phone"]["width"]
    with _device(chromium, "phone") as page:
        browser_sign_in(page, live_app, admin_user.email, DEFAULT_PASSWORD)
        _open(page, live_app, "/dashboard/")
        for chart in ("conversations", "channels", "messages"):
            assert 250 < _canvas_width(page, chart) <= phone_width - 24, chart

        # turned to a wide screen, the charts grow with it, and narrow again when turned back
        page.set_viewport_size(VIEWPORTS["desktop"])
        page.wait_for_function(_CANVAS_WIDER_THAN, arg=["messages", 1000])
        page.set_viewport_size(VIEWPORTS["phone"])
        page.wait_for_function(_CANVAS_NARROWER_THAN, arg=["messages", phone_width])
        assert_usable_at(page, "phone")
