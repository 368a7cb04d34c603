"""The inbox in a real Chromium against a real daphne: live thread, list, reply, status, typing,
and catching up after the socket was away.

Customer messages are written from the test process through the same service the webhooks use;
it publishes on the Redis channel layer the daphne process listens to.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD
from assistants.tests.factories import AssistantFactory
from conversations import realtime, services
from conversations.models import Conversation, Message
from flame.testing import browser_sign_in, live_daphne
from integrations.inbound import customer_message_receive
from integrations.tests.factories import IntegrationFactory

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LIVE = 10_000  # ms: the longest a live update may take to show


def _customer_writes(integration, customer: str, text: str, name: str = "") -> Message:
    inbound = services.InboundMessage(
        external_contact_id=customer,
        external_id=f"test-{uuid.uuid4()}",
        content=text,
        contact_name=name,
    )
    return customer_message_receive(integration=integration, inbound=inbound).message


def _assigned_conversation(integration, *, admin, agent, customer: str, name: str) -> Conversation:
    conversation = _customer_writes(integration, customer, f"Hello, I am {name}", name).conversation
    return services.conversation_assign(by=admin, conversation=conversation, agent=agent)


def _item(page, conversation):
    return page.locator(f"[data-testid=conversation-item][data-id='{conversation.pk}']")


def _messages(page):
    return page.locator("[data-testid=message]")


def _open_inbox(page, live_app, user, conversation=None):
    browser_sign_in(page, live_app, user.email, DEFAULT_PASSWORD)
    path = f"/inbox/{conversation.pk}/" if conversation else "/inbox/"
    page.goto(f"{live_app}{path}")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "online")


@pytest.fixture
def sandbox(workspace):
    # The assertions read English labels; the factory's workspaces speak Spanish.
    workspace.language = "en"
    workspace.save(update_fields=["language"])
    return IntegrationFactory(workspace=workspace, platform="sandbox", name="Sandbox")


def test_agent_works_a_conversation_live(
    live_app, browser_context, admin_user, agent_user, sandbox
):
    # given two conversations assigned to the agent; Carla's is the older one
    carla = _assigned_conversation(
        sandbox, admin=admin_user, agent=agent_user, customer="+5215500000001", name="Carla"
    )
    bruno = _assigned_conversation(
        sandbox, admin=admin_user, agent=agent_user, customer="+5215500000002", name="Bruno"
    )
    page = browser_context.new_page()
    _open_inbox(page, live_app, agent_user)
    items = page.get_by_test_id("conversation-item")
    expect(items).to_have_count(2)
    expect(items.first).to_have_attribute("data-id", str(bruno.pk))
    expect(_item(page, carla).get_by_test_id("unread-badge")).to_have_text("1")

    # when the agent opens Carla's conversation, it is marked read
    _item(page, carla).click()
    expect(page).to_have_url(re.compile(rf"/inbox/{carla.pk}/$"))
    expect(page.get_by_test_id("thread-contact-name")).to_have_text("Carla")
    expect(_messages(page)).to_have_count(1)
    expect(_item(page, carla).get_by_test_id("unread-badge")).to_be_hidden()
    carla.refresh_from_db()
    assert carla.unread_count == 0

    # a customer message appears in the open thread without a reload
    _customer_writes(sandbox, "+5215500000001", "Where is my <b>order</b>?")
    expect(_messages(page)).to_have_count(2)
    last = _messages(page).last
    expect(last).to_have_attribute("data-sender", "user")
    expect(last.get_by_test_id("message-text")).to_have_text("Where is my <b>order</b>?")
    expect(items.first).to_have_attribute("data-id", str(carla.pk))

    # a message in the other conversation moves it to the top with an unread badge
    _customer_writes(sandbox, "+5215500000002", "Any news?")
    _customer_writes(sandbox, "+5215500000002", "Hello??")
    expect(items.first).to_have_attribute("data-id", str(bruno.pk), timeout=LIVE)
    expect(_item(page, bruno).get_by_test_id("unread-badge")).to_have_text("3")
    expect(_item(page, bruno).get_by_test_id("conversation-preview")).to_have_text("Hello??")
    expect(_messages(page)).to_have_count(2)  # the open thread is Carla's

    # the agent replies with Enter; Shift+Enter made a second line
    composer = page.get_by_test_id("composer-input")
    composer.fill("It ships today.")
    composer.press("Shift+Enter")
    composer.type("Tracking follows.")
    composer.press("Enter")
    expect(_messages(page)).to_have_count(3)
    reply = _messages(page).last
    expect(reply).to_have_attribute("data-sender", "agent")
    expect(reply.get_by_test_id("message-text")).to_have_text("It ships today.\nTracking follows.")
    expect(reply.get_by_test_id("message-status")).to_have_attribute("data-status", "sent")
    expect(composer).to_have_value("")
    stored = Message.objects.get(conversation=carla, sender=Message.Sender.AGENT)
    assert stored.content == "It ships today.\nTracking follows."
    assert stored.author_id == agent_user.pk

    # a delivery receipt moves the tick on
    services.message_update_status(message=stored, status=Message.Status.DELIVERED)
    expect(reply.get_by_test_id("message-status")).to_have_attribute("data-status", "delivered")

    # and the agent resolves the conversation
    page.get_by_test_id("resolve-button").click()
    expect(page.get_by_test_id("thread-status")).to_have_text("Resolved")
    expect(page.get_by_test_id("status-select")).to_have_value("resolved")
    carla.refresh_from_db()
    assert carla.status == Conversation.Status.RESOLVED


def test_typing_shows_both_ways(
    live_app, chromium, browser_context, admin_user, agent_user, sandbox
):
    conversation = _assigned_conversation(
        sandbox, admin=admin_user, agent=agent_user, customer="+5215500000003", name="Dora"
    )
    agent_page = browser_context.new_page()
    _open_inbox(agent_page, live_app, agent_user, conversation)
    admin_context = chromium.new_context(locale="en-US", viewport={"width": 1366, "height": 860})
    try:
        admin_page = admin_context.new_page()
        _open_inbox(admin_page, live_app, admin_user, conversation)
        expect(_messages(admin_page)).to_have_count(1)

        admin_page.get_by_test_id("composer-input").type("Let me check")
        expect(agent_page.get_by_test_id("typing-indicator")).to_have_text(
            "Ana Admin is typing…", timeout=LIVE
        )
        admin_page.get_by_test_id("composer-input").fill("")
        expect(agent_page.get_by_test_id("typing-indicator")).to_be_hidden(timeout=LIVE)

        agent_page.get_by_test_id("composer-input").type("On it")
        expect(admin_page.get_by_test_id("typing-indicator")).to_have_text(
            "Aldo Agent is typing…", timeout=LIVE
        )
    finally:
        admin_context.close()


def test_page_catches_up_after_the_socket_was_away(
    live_app, browser_context, admin_user, agent_user, sandbox
):
    ema = _assigned_conversation(
        sandbox, admin=admin_user, agent=agent_user, customer="+5215500000004", name="Ema"
    )
    page = browser_context.new_page()
    _open_inbox(page, live_app, agent_user, ema)
    expect(_messages(page)).to_have_count(1)

    # the socket goes away and stays away while things happen
    page.evaluate("window.__flameInbox.socket.close({ reconnect: false })")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "offline")
    _customer_writes(sandbox, "+5215500000004", "Sent while you were away")
    fede = _assigned_conversation(
        sandbox, admin=admin_user, agent=agent_user, customer="+5215500000005", name="Fede"
    )
    page.wait_for_timeout(300)  # a live event would have arrived by now; none can
    expect(_messages(page)).to_have_count(1)

    # after reconnecting, the page applies what it missed from /api/events
    page.evaluate("window.__flameInbox.socket.reconnect()")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "online")
    expect(_messages(page)).to_have_count(2)
    expect(_messages(page).last.get_by_test_id("message-text")).to_have_text(
        "Sent while you were away"
    )
    expect(_item(page, fede)).to_be_visible()
    expect(_item(page, fede).get_by_test_id("unread-badge")).to_have_text("1")

    # and it is live again
    _customer_writes(sandbox, "+5215500000004", "Back to normal")
    expect(_messages(page)).to_have_count(3)


def test_admin_triages_a_conversation(live_app, browser_context, admin_user, agent_user, sandbox):
    assistant = AssistantFactory(workspace=sandbox.workspace, name="Night shift")
    conversation = _customer_writes(sandbox, "+5215500000006", "Hi", "Gala").conversation
    failed = services.message_send_agent(
        by=admin_user, conversation=conversation, draft=services.OutboundDraft(content="Hello!")
    )
    services.message_update_status(
        message=failed, status=Message.Status.FAILED, error_message="The customer blocked us."
    )
    page = browser_context.new_page()
    _open_inbox(page, live_app, admin_user, conversation)

    # a failed message shows why, and can be sent again
    bubble = page.locator(f"[data-testid=message][data-id='{failed.pk}']")
    expect(bubble.get_by_test_id("message-error")).to_contain_text("The customer blocked us.")
    bubble.get_by_test_id("message-retry").click()
    expect(bubble.get_by_test_id("message-status")).to_have_attribute("data-status", "sent")
    expect(bubble.get_by_test_id("message-error")).to_have_count(0)

    # assignment, priority and tags
    page.get_by_test_id("assign-agent").select_option(str(agent_user.pk))
    page.get_by_test_id("assign-assistant").select_option(str(assistant.pk))
    page.get_by_test_id("priority-select").select_option("urgent")
    page.get_by_test_id("tag-input").fill("vip")
    page.get_by_test_id("tag-input").press("Enter")
    expect(page.get_by_test_id("tag-chip").locator("span")).to_have_text(["vip"])
    expect(_item(page, conversation).get_by_test_id("conversation-priority")).to_have_text("Urgent")
    conversation.refresh_from_db()
    assert conversation.assigned_agent_id == agent_user.pk
    assert conversation.assigned_assistant_id == assistant.pk
    assert conversation.priority == "urgent"
    assert [tag.name for tag in conversation.tags.all()] == ["vip"]
    page.get_by_role("button", name="Remove tag vip").click()
    expect(page.get_by_test_id("tag-chip")).to_have_count(0)

    # the AI panel follows the analysis of new customer messages
    _customer_writes(sandbox, "+5215500000006", "My invoice is wrong")
    expect(page.get_by_test_id("ai-summary")).to_contain_text("My invoice is wrong", timeout=LIVE)
    expect(page.get_by_test_id("contact-name")).to_have_text("Gala")


def test_the_survey_answer_shows_as_the_rating_and_an_agent_records_one(
    live_app, browser_context, admin_user, agent_user, sandbox, workspace
):
    # given a helped and resolved conversation whose customer got the satisfaction survey
    workspace.settings = {"csat_survey": True}
    workspace.save(update_fields=["settings"])
    carla = _assigned_conversation(
        sandbox, admin=admin_user, agent=agent_user, customer="+5215500000009", name="Carla"
    )
    services.message_send_agent(
        by=agent_user, conversation=carla, draft=services.OutboundDraft(content="Done!")
    )
    services.conversation_set_status(by=agent_user, conversation=carla, status="resolved")
    page = browser_context.new_page()
    _open_inbox(page, live_app, agent_user, carla)  # the deep link, whatever the list shows
    rating = page.get_by_test_id("rating")
    expect(rating).to_have_text("No rating yet.")

    # when the customer answers "4", the panel shows it without a reload
    _customer_writes(sandbox, "+5215500000009", "4")
    expect(rating).to_contain_text("4 of 5 · from the customer", timeout=LIVE)
    carla.refresh_from_db()
    assert carla.status == "resolved"

    # and an agent can record a rating given by phone
    page.get_by_test_id("rating-score").select_option("2")
    page.get_by_test_id("rating-form").locator("input[name=comment]").fill("Slow delivery")
    page.get_by_test_id("rating-save").click()
    expect(rating).to_contain_text("2 of 5 · recorded by an agent")
    expect(rating).to_contain_text("Slow delivery")


@pytest.fixture
def live_app_without_redis(transactional_db):
    """The embedded default's server: its channel layer lives in its own process only."""
    with live_daphne(REDIS_URL="", CELERY_TASK_ALWAYS_EAGER="1", RATELIMIT_ENABLE="0") as url:
        yield url


def test_on_a_process_local_layer_the_page_polls_for_what_other_processes_wrote(
    live_app_without_redis, browser_context, admin_user, agent_user, sandbox
):
    # given the server's channel layer cannot hear this (test) process
    fede = _assigned_conversation(
        sandbox, admin=admin_user, agent=agent_user, customer="+5215500000010", name="Fede"
    )
    page = browser_context.new_page()
    _open_inbox(page, live_app_without_redis, agent_user, fede)
    expect(_messages(page)).to_have_count(1)

    # when another process stores a customer message (a worker, `manage.py simulate_inbound`)
    _customer_writes(sandbox, "+5215500000010", "Written elsewhere")

    # then the page still shows it without a reload, from the event log
    expect(_messages(page)).to_have_count(2, timeout=3 * realtime.PROCESS_LOCAL_POLL_SECONDS * 1000)
    expect(_messages(page).last.get_by_test_id("message-text")).to_have_text("Written elsewhere")
