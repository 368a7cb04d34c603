"""The "Waiting" tab and badge in a real Chromium: a conversation answered only by an assistant
still waits for a human, live; an agent's answer takes it off the list."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from assistants.tests.factories import AssistantFactory
from conversations import services
from conversations.models import Message
from conversations.tests.test_inbox_browser import LIVE, _customer_writes, _item, _open_inbox
from integrations.tests.factories import IntegrationFactory

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sandbox(workspace):
    workspace.language = "en"  # the assertions read English labels
    workspace.save(update_fields=["language"])
    return IntegrationFactory(workspace=workspace, platform="sandbox", name="Sandbox")


def test_the_waiting_tab_keeps_what_only_an_assistant_answered(
    live_app, browser_context, admin_user, workspace, sandbox
):
    page = browser_context.new_page()
    _open_inbox(page, live_app, admin_user)
    page.get_by_test_id("view-waiting").click()
    expect(page.get_by_test_id("view-waiting")).to_have_attribute("aria-current", "page")

    # a customer writes: the conversation appears, waiting
    conversation = _customer_writes(
        sandbox, "+5215500000009", "Is anyone there?", "Eva"
    ).conversation
    row = _item(page, conversation)
    expect(row.get_by_test_id("conversation-waiting")).to_have_text("Waiting", timeout=LIVE)

    # the assistant's holding reply changes the preview, not the wait
    services.message_store_outbound(
        conversation=conversation,
        sender=Message.Sender.ASSISTANT,
        draft=services.OutboundDraft(content="Someone will get back to you."),
        assistant=AssistantFactory(workspace=workspace),
    )
    expect(row.get_by_test_id("conversation-preview")).to_have_text(
        "Someone will get back to you.", timeout=LIVE
    )
    expect(row.get_by_test_id("conversation-waiting")).to_be_visible()
    expect(row.get_by_test_id("unread-badge")).to_have_text("1")

    # an agent answers: it waits no more and leaves the tab
    services.message_send_agent(
        by=admin_user,
        conversation=conversation,
        draft=services.OutboundDraft(content="Hi Eva, I am on it."),
    )
    expect(row).to_have_count(0, timeout=LIVE)
    expect(page.get_by_test_id("list-empty")).to_be_visible()
