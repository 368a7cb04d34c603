"""The installable app in a real Chromium against a real daphne: Chromium finds it installable,
its service worker stores the shell and static files and nothing else (no page, no API answer),
a signed-out visitor offline sees the offline page and nobody's conversations, and the worker
shows a notification a page hands it."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD
from conversations.tests.factories import ContactFactory, ConversationFactory, MessageFactory
from flame.testing import browser_sign_in, context_options, watch_errors

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PRIVATE_TEXT = "My card ends in 4242"

_WORKER_READY = """async () => {
  const registration = await navigator.serviceWorker.ready;
  return registration.active.scriptURL;
}"""

_CONTROLLED = "() => navigator.serviceWorker.controller !== null"

_STORED_URLS = """async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) urls.push(request.url);
  }
  return urls.sort();
}"""

_NOTIFY = """async (notification) => {
  const { showNotification } = await import("/static/js/pwa.js");
  return showNotification(notification);
}"""

_SHOWN = """async () => {
  const registration = await navigator.serviceWorker.ready;
  return (await registration.getNotifications()).map((shown) =>
    ({ title: shown.title, body: shown.body, tag: shown.tag, url: shown.data.url }));
}"""


@pytest.fixture
def phone(chromium, live_app):
    """A phone's browser; closed before the server stops (hence live_app)."""
    context = chromium.new_context(**context_options("phone"))
    errors = watch_errors(context)
    yield context
    context.close()
    assert errors == [], f"browser console errors: {errors}"


@pytest.fixture
def private_conversation(workspace, agent_user):
    workspace.language = "en"
    workspace.save(update_fields=["language"])
    contact = ContactFactory(workspace=workspace, name="Carla Confidential")
    conversation = ConversationFactory(
        workspace=workspace, contact=contact, assigned_agent=agent_user
    )
    MessageFactory(conversation=conversation, content=PRIVATE_TEXT)
    return conversation


def _controlled_page(context, live_app: str, path: str):
    """A page of ``path`` once the worker is installed and in control of it."""
    page = context.new_page()
    page.goto(f"{live_app}{path}")
    assert page.evaluate(_WORKER_READY) == f"{live_app}/sw.js"
    page.reload()
    page.wait_for_function(_CONTROLLED)
    return page


def test_chromium_finds_the_app_installable(phone, live_app):
    page = _controlled_page(phone, live_app, "/login/")
    devtools = phone.new_cdp_session(page)

    manifest = devtools.send("Page.getAppManifest")
    installability = devtools.send("Page.getInstallabilityErrors")

    assert manifest["url"] == f"{live_app}/manifest.webmanifest?lang=en"
    assert manifest["errors"] == []
    # Playwright's contexts are off the record, where Chromium installs nothing; that is the
    # only objection it may have.
    objections = [error["errorId"] for error in installability["installabilityErrors"]]
    assert objections == ["in-incognito"]


def test_the_worker_stores_static_files_and_never_pages_or_api_answers(
    phone, live_app, agent_user, private_conversation
):
    # given an agent who worked in the inbox and the dashboard with the worker in control
    page = _controlled_page(phone, live_app, "/login/")
    browser_sign_in(page, live_app, agent_user.email, DEFAULT_PASSWORD)
    page.goto(f"{live_app}/inbox/{private_conversation.pk}/")
    expect(page.get_by_test_id("message-text")).to_have_text(PRIVATE_TEXT)
    page.goto(f"{live_app}/dashboard/")
    expect(page.get_by_test_id("dashboard")).to_have_attribute("data-state", "ready")

    # then the worker's caches hold the offline page and static files, nothing else
    stored = [urlsplit(url).path for url in page.evaluate(_STORED_URLS)]
    assert "/offline/" in stored
    assert "/static/js/inbox/main.js" in stored  # loaded by a page under its control
    assert "/static/js/dashboard/dashboard.js" in stored
    others = [path for path in stored if path != "/offline/" and not path.startswith("/static/")]
    assert others == []


def test_signed_out_and_offline_the_app_shows_nobodys_conversations(
    phone, live_app, agent_user, private_conversation
):
    page = _controlled_page(phone, live_app, "/login/")
    browser_sign_in(page, live_app, agent_user.email, DEFAULT_PASSWORD)
    conversation_url = f"{live_app}/inbox/{private_conversation.pk}/"
    page.goto(conversation_url)
    expect(page.get_by_test_id("message-text")).to_have_text(PRIVATE_TEXT)

    # when the agent signs out and the phone loses its connection
    page.get_by_test_id("nav-toggle").tap()
    page.get_by_test_id("logout").tap()
    page.wait_for_url(f"{live_app}/login/")
    phone.set_offline(True)
    page.goto(conversation_url)

    # then the stored offline page answers, in the address that could not be reached
    expect(page.get_by_test_id("offline")).to_be_visible()
    assert page.url == conversation_url
    content = page.content()
    assert PRIVATE_TEXT not in content
    assert "Carla Confidential" not in content
    assert agent_user.email not in content

    # and once back online, the server (not a stored copy) decides: sign in first
    phone.set_offline(False)
    page.get_by_test_id("offline-retry").tap()
    page.wait_for_url(lambda url: "/login/" in url)


def test_the_worker_shows_a_notification_it_is_given(phone, live_app, private_conversation):
    page = _controlled_page(phone, live_app, "/login/")
    conversation_path = f"/inbox/{private_conversation.pk}/"
    carla = {"title": "Carla", "body": "Is it ready?", "url": conversation_path, "tag": "c-1"}

    # not while the person has not allowed notifications
    assert page.evaluate(_NOTIFY, carla) is False
    phone.grant_permissions(["notifications"], origin=live_app)

    assert page.evaluate(_NOTIFY, carla) is True
    # a link to another site is never followed from a notification: it opens the inbox instead
    assert page.evaluate(_NOTIFY, {"title": "Phish", "url": "https://evil.example/"}) is True
    assert page.evaluate(_NOTIFY, {"title": "", "body": "no title"}) is False

    shown = sorted(page.evaluate(_SHOWN), key=lambda notification: notification["title"])
    assert shown == [
        {"title": "Carla", "body": "Is it ready?", "tag": "c-1",
         "url": f"{live_app}{conversation_path}"},
        {"title": "Phish", "body": "", "tag": "", "url": f"{live_app}/inbox/"},
    ]  # fmt: skip
