"""The agent workbench in a real Chromium against a real daphne, on a laptop (1440x900) and a
phone (390x844): a note with a mention reaching a colleague's bell live, the "/" picker filling
variables, the keyboard shortcuts, snoozing, a bulk change, the history lines, the contact
panel and the AI's suggestion applied with one click.

Customer messages come from the test process through the inbound flow the webhooks use; they
reach the daphne process over the Redis channel layer.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD
from conversations import services
from conversations.models import ContactAttribute, Conversation, Message
from conversations.tests.test_inbox_browser import _customer_writes, _item, _messages
from flame.testing import assert_usable_at, browser_sign_in, context_options, watch_errors
from integrations.tests.factories import IntegrationFactory
from workbench.models import Notification, SavedReply

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LIVE = 10_000  # ms: the longest a live update may take to show
SIZES = ["desktop", "phone"]


@pytest.fixture
def sandbox(workspace):
    workspace.language = "en"  # the assertions read English; the factories' speak Spanish
    workspace.save(update_fields=["language"])
    return IntegrationFactory(workspace=workspace, platform="sandbox", name="Sandbox")


def _conversation(sandbox, admin, customer: str, name: str, agent=None) -> Conversation:
    conversation = _customer_writes(sandbox, customer, f"Hello, I am {name}", name).conversation
    if agent is not None:
        conversation = services.conversation_assign(
            by=admin, conversation=conversation, agent=agent
        )
    return conversation


@contextmanager
def _device(chromium, size: str):
    context = chromium.new_context(**context_options(size))
    errors = watch_errors(context)
    try:
        yield context.new_page()
    finally:
        context.close()
    assert errors == [], f"browser console errors: {errors}"


def _sign_in(page, live_app: str, user, path: str) -> None:
    browser_sign_in(page, live_app, user.email, DEFAULT_PASSWORD)
    page.goto(f"{live_app}{path}")
    if path.startswith("/inbox/"):
        expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "online")


def _press(locator, size: str) -> None:
    if size == "phone":
        locator.tap()
    else:
        locator.click()


@pytest.mark.parametrize("size", SIZES)
def test_a_note_with_a_mention_reaches_the_colleague_live(
    chromium, live_app, sandbox, admin_user, agent_user, size
):
    carla = _conversation(sandbox, admin_user, "+5215500000201", "Carla", agent=agent_user)
    Notification.objects.all().delete()  # the assignment's: this test is about the mention
    with _device(chromium, "desktop") as colleague, _device(chromium, size) as page:
        # the agent is somewhere else in FLAME: the bell has its own socket there
        _sign_in(colleague, live_app, agent_user, "/dashboard/")
        expect(colleague.get_by_test_id("bell-count")).to_be_hidden()
        colleague.wait_for_function("() => window.__flameBell !== undefined")

        _sign_in(page, live_app, admin_user, f"/inbox/{carla.pk}/")
        _press(page.get_by_test_id("mode-note"), size)
        composer = page.get_by_test_id("composer-input")
        composer.type("@Al")
        mentions = page.get_by_test_id("mention-list")
        expect(mentions.get_by_test_id("popup-option")).to_have_text(["Aldo AgentAgent"])
        composer.press("Enter")
        expect(composer).to_have_value("@Aldo Agent ")
        composer.type("please call her")
        _press(page.get_by_test_id("composer-send"), size)

        note = _messages(page).last
        expect(note).to_have_attribute("data-private", "true")
        expect(note.get_by_test_id("message-author")).to_have_text("You · private note")
        expect(note.get_by_test_id("message-status")).to_have_count(0)  # never sent anywhere

        # the colleague's bell rings without a reload
        expect(colleague.get_by_test_id("bell-count")).to_have_text("1", timeout=LIVE)
        colleague.get_by_test_id("bell-button").click()
        item = colleague.get_by_test_id("notification").first
        expect(item).to_contain_text("Ana Admin mentioned you in the conversation with Carla")
        expect(item).to_contain_text("@Aldo Agent please call her")
        item.locator("a").click()
        colleague.wait_for_url(f"{live_app}/inbox/{carla.pk}/")
        expect(colleague.get_by_test_id("bell-count")).to_be_hidden()

    stored = Message.objects.get(conversation=carla, private=True)
    assert (stored.content, stored.status, stored.integration_id) == (
        "@Aldo Agent please call her",
        "sent",
        None,
    )
    assert Notification.objects.get(kind="mention").read_at is not None


@pytest.mark.parametrize("size", SIZES)
def test_the_saved_reply_picker_fills_the_variables(
    chromium, live_app, sandbox, admin_user, agent_user, workspace, size
):
    carla = _conversation(sandbox, admin_user, "+5215500000202", "Carla Gómez", agent=agent_user)
    SavedReply.objects.create(
        workspace=workspace,
        short_code="shipping",
        content="Hi {{contact.first_name}}, {{agent.name}} here: it ships today.",
    )
    SavedReply.objects.create(workspace=workspace, short_code="thanks", content="Thank you!")
    with _device(chromium, size) as page:
        _sign_in(page, live_app, agent_user, f"/inbox/{carla.pk}/")
        composer = page.get_by_test_id("composer-input")
        composer.click()
        composer.type("/")
        picker = page.get_by_test_id("saved-reply-picker")
        expect(picker.get_by_test_id("popup-option")).to_have_count(2)
        composer.type("ship")
        expect(picker.get_by_test_id("popup-option")).to_have_count(1)
        assert_usable_at(page, size)  # the picker open, within reach
        composer.press("Enter")

        expect(picker).to_be_hidden()
        expect(composer).to_have_value("Hi Carla, Aldo Agent here: it ships today.")
        _press(page.get_by_test_id("composer-send"), size)
        expect(_messages(page).last.get_by_test_id("message-text")).to_have_text(
            "Hi Carla, Aldo Agent here: it ships today."
        )


def test_keyboard_shortcuts_move_write_resolve_and_assign(chromium, live_app, sandbox, admin_user):
    older = _conversation(sandbox, admin_user, "+5215500000203", "Older")
    newer = _conversation(sandbox, admin_user, "+5215500000204", "Newer")
    with _device(chromium, "desktop") as page:
        _sign_in(page, live_app, admin_user, "/inbox/")
        page.keyboard.press("?")
        dialog = page.get_by_test_id("shortcuts-dialog")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("Next / previous conversation")
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()

        page.keyboard.press("j")
        expect(page).to_have_url(re.compile(rf"/inbox/{newer.pk}/"))
        page.keyboard.press("j")
        expect(page).to_have_url(re.compile(rf"/inbox/{older.pk}/"))
        page.keyboard.press("k")
        expect(page).to_have_url(re.compile(rf"/inbox/{newer.pk}/"))

        page.keyboard.press("a")
        expect(page.get_by_test_id("assign-agent")).to_have_value(str(admin_user.pk))
        page.keyboard.press("n")
        expect(page.get_by_test_id("composer-input")).to_be_focused()
        expect(page.get_by_test_id("mode-note")).to_have_attribute("aria-selected", "true")
        page.keyboard.press("Escape")
        page.keyboard.press("r")
        expect(page.get_by_test_id("mode-reply")).to_have_attribute("aria-selected", "true")
        page.keyboard.press("Escape")
        page.keyboard.press("e")
        expect(page.get_by_test_id("thread-status")).to_have_text("Resolved")
        page.keyboard.press("/")
        expect(page.get_by_test_id("composer-input")).to_have_value("/")

    newer.refresh_from_db()
    assert (newer.status, newer.assigned_agent_id) == ("resolved", admin_user.pk)


@pytest.mark.parametrize("size", SIZES)
def test_snooze_hides_the_conversation_until_the_customer_writes(
    chromium, live_app, sandbox, admin_user, agent_user, size
):
    carla = _conversation(sandbox, admin_user, "+5215500000205", "Carla", agent=agent_user)
    with _device(chromium, size) as page:
        _sign_in(page, live_app, agent_user, f"/inbox/{carla.pk}/")
        _press(page.get_by_test_id("snooze-button"), size)
        expect(page.get_by_test_id("snooze-menu")).to_be_visible()
        assert_usable_at(page, size)
        _press(page.get_by_test_id("snooze-customer"), size)

        expect(page.get_by_test_id("thread-snoozed")).to_have_text(
            "Snoozed until the customer writes"
        )
        expect(page.get_by_test_id("unsnooze-button")).to_be_visible()
        line = page.get_by_test_id("activity").last
        expect(line).to_have_text(
            re.compile("Aldo Agent snoozed the conversation until the customer writes")
        )

        # the open list leaves it out until the customer writes again
        page.goto(f"{live_app}/inbox/")
        expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "online")
        expect(_item(page, carla)).to_have_count(0)
        _customer_writes(sandbox, "+5215500000205", "Are you there?")
        expect(_item(page, carla)).to_have_count(1, timeout=LIVE)
        expect(_item(page, carla).get_by_test_id("conversation-snoozed")).to_have_count(0)

    carla.refresh_from_db()
    assert carla.snoozed is False


@pytest.mark.parametrize("size", SIZES)
def test_a_bulk_change_reaches_every_selected_conversation(
    chromium, live_app, sandbox, admin_user, size
):
    first = _conversation(sandbox, admin_user, "+5215500000206", "First")
    second = _conversation(sandbox, admin_user, "+5215500000207", "Second")
    third = _conversation(sandbox, admin_user, "+5215500000208", "Third")
    with _device(chromium, size) as page:
        _sign_in(page, live_app, admin_user, "/inbox/")
        _press(page.get_by_test_id("bulk-toggle"), size)
        _press(_item(page, first), size)
        _press(_item(page, third), size)
        expect(page.get_by_test_id("bulk-count")).to_have_text("2 selected")
        expect(page).to_have_url(f"{live_app}/inbox/")  # selecting opened nothing
        assert_usable_at(page, size)

        page.get_by_test_id("bulk-priority").select_option("urgent")
        _press(page.get_by_test_id("bulk-set-priority"), size)

        expect(page.get_by_test_id("bulk-message")).to_have_text("2 conversations updated.")
        expect(_item(page, first).get_by_test_id("conversation-priority")).to_have_text("Urgent")
        expect(_item(page, third).get_by_test_id("conversation-priority")).to_have_text("Urgent")
        expect(_item(page, second).get_by_test_id("conversation-priority")).to_have_count(0)

    priorities = dict(Conversation.objects.values_list("pk", "priority"))
    assert (priorities[first.pk], priorities[second.pk], priorities[third.pk]) == (
        "urgent",
        "medium",
        "urgent",
    )


def test_history_lines_and_unread_counts_follow_live(
    chromium, live_app, sandbox, admin_user, agent_user
):
    carla = _conversation(sandbox, admin_user, "+5215500000209", "Carla")
    with _device(chromium, "desktop") as page:
        _sign_in(page, live_app, admin_user, f"/inbox/{carla.pk}/")
        expect(page.get_by_test_id("count-unassigned")).to_be_hidden()  # read on opening

        services.conversation_assign(
            by=admin_user, conversation=Conversation.objects.get(pk=carla.pk), agent=agent_user
        )
        expect(page.get_by_test_id("activity").last).to_contain_text(
            "Ana Admin assigned the conversation to Aldo Agent", timeout=LIVE
        )
        bruno = _conversation(sandbox, admin_user, "+5215500000210", "Bruno")
        expect(page.get_by_test_id("count-unassigned")).to_have_text("1", timeout=LIVE)
        expect(_item(page, bruno)).to_have_count(1)


def test_the_contact_panel_and_the_ais_suggestion(
    chromium, live_app, sandbox, admin_user, agent_user, workspace
):
    ContactAttribute.objects.create(workspace=workspace, key="plan", label="Plan", type="text")
    carla = _conversation(sandbox, admin_user, "+5215500000211", "Carla", agent=agent_user)
    earlier = Conversation.objects.create(
        workspace=workspace,
        contact=carla.contact,
        platform="sandbox",
        status="resolved",
        assigned_agent=agent_user,
        last_message="My old order",
    )
    Conversation.objects.filter(pk=carla.pk).update(
        ai_priority="urgent", ai_tags=["refund", "unbreakable" + "x" * 39]
    )
    with _device(chromium, "desktop") as page:
        _sign_in(page, live_app, agent_user, f"/inbox/{carla.pk}/")
        expect(page.get_by_test_id("contact-conversation")).to_have_count(1)
        expect(page.get_by_test_id("contact-conversation")).to_have_attribute(
            "href", f"/inbox/{earlier.pk}/"
        )

        page.get_by_test_id("contact-edit").click()
        form = page.get_by_test_id("contact-form")
        form.locator("[name=note]").fill("Prefers mornings")
        form.locator("[name=attribute-plan]").fill("Gold")
        page.get_by_test_id("contact-save").click()
        expect(page.get_by_test_id("contact-note")).to_have_text("Prefers mornings")
        expect(page.get_by_test_id("attribute-plan")).to_have_text("Gold")

        page.get_by_test_id("ai-apply-priority").click()
        expect(page.get_by_test_id("priority-select")).to_have_value("urgent")
        expect(page.get_by_test_id("ai-apply-priority")).to_be_hidden()
        page.get_by_test_id("ai-apply-tags").click()
        expect(page.get_by_test_id("tag-chip")).to_have_count(2)
        panel = page.get_by_test_id("ai-panel")
        assert panel.evaluate("(node) => node.scrollWidth <= node.clientWidth")  # long words wrap

    carla.contact.refresh_from_db()
    assert (carla.contact.note, carla.contact.attributes) == ("Prefers mornings", {"plan": "Gold"})
