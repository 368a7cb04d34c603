"""The inbox page when its user's rights change under it (real Chromium, real daphne).

The server closes the page's socket with 4409; the page reconnects and shows what the user may
see now. A deactivated user's page says "signed out" and stops trying (4401).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts import services as account_services
from accounts.switches import AGENTS_SEE_UNASSIGNED
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from conversations.tests.factories import ConversationFactory
from flame.testing import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def english(workspace):
    # The assertions read English labels; the factory's workspaces speak Spanish.
    workspace.language = "en"
    workspace.save(update_fields=["language"])
    return workspace


def _inbox(browser_context, live_app, user, path: str = "/inbox/"):
    """The signed-in page, online, and the list of the sockets it opens from now on."""
    page = browser_context.new_page()
    browser_sign_in(page, live_app, user.email, DEFAULT_PASSWORD)
    page.goto(f"{live_app}{path}")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "online")
    sockets = []
    page.on("websocket", lambda socket: sockets.append(socket))
    return page, sockets


def _item(page, conversation):
    return page.locator(f"[data-testid=conversation-item][data-id='{conversation.pk}']")


def test_queue_turned_off_leaves_the_agents_list(
    live_app, browser_context, english, admin_user, agent_user
):
    english.settings = {AGENTS_SEE_UNASSIGNED.key: True}
    english.save(update_fields=["settings"])
    queued = ConversationFactory(workspace=english)
    page, sockets = _inbox(browser_context, live_app, agent_user, "/inbox/?view=unassigned")
    expect(_item(page, queued)).to_be_visible()

    account_services.workspace_update(
        by=admin_user, workspace=english, settings={AGENTS_SEE_UNASSIGNED.key: False}
    )

    expect(_item(page, queued)).to_have_count(0)
    expect(page.get_by_test_id("list-empty")).to_be_visible()
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "online")
    assert len(sockets) == 1  # the replacement of the socket the change closed


def test_demoted_admin_page_reloads_with_the_agents_view(
    live_app, browser_context, english, admin_user, other_agent
):
    demoted = UserFactory(workspace=english, role="admin")
    foreign = ConversationFactory(workspace=english, assigned_agent=other_agent)
    page, _ = _inbox(browser_context, live_app, demoted)
    expect(_item(page, foreign)).to_be_visible()
    expect(page.get_by_test_id("view-all")).to_be_visible()

    account_services.user_update_membership(by=admin_user, user=demoted, role="agent")

    expect(_item(page, foreign)).to_have_count(0)
    expect(page.get_by_test_id("view-all")).to_have_count(0)
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "online")


def test_deactivated_agent_page_says_signed_out_and_stops_reconnecting(
    live_app, browser_context, english, admin_user, agent_user
):
    page, sockets = _inbox(browser_context, live_app, agent_user)

    account_services.user_deactivate(by=admin_user, user=agent_user)

    status = page.get_by_test_id("connection-status")
    expect(status).to_have_attribute("data-state", "signed-out")
    page.wait_for_timeout(2000)  # a page still retrying would have opened more sockets by now
    expect(status).to_have_attribute("data-state", "signed-out")
    expect(status).to_have_text("Signed out: reload the page")
    assert len(sockets) == 1  # after the 4409, one attempt, refused with 4401: no more
