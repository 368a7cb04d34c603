"""Sign-in pages in a real browser against a real daphne: session, CSRF, language, sign-out."""

from __future__ import annotations

import pytest

from accounts.tests.factories import DEFAULT_PASSWORD
from flame.testing import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_agent_signs_in_switches_language_and_signs_out(live_app, browser_context, agent_user):
    page = browser_context.new_page()
    page.goto(f"{live_app}/inbox/")
    assert "/login/" in page.url  # pages need a session

    page.fill("input[name=email]", agent_user.email)
    page.fill("input[name=password]", "not the password")
    page.click("[data-testid=login-submit]")
    assert page.locator("[data-testid=form-error]").is_visible()

    browser_sign_in(page, live_app, agent_user.email, DEFAULT_PASSWORD)
    assert page.url.endswith("/inbox/")

    # Pages change their address as they go (the inbox opens a conversation): the switch
    # returns to where the person is now, not to where the page was first rendered.
    page.evaluate("history.pushState({}, '', '/inbox/?status=resolved')")
    page.click("[data-testid=language-es]")
    page.wait_for_url(lambda url: url.endswith("/inbox/?status=resolved"))
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("[data-testid=logout]").inner_text() == "Cerrar sesión"
    agent_user.refresh_from_db()
    assert agent_user.language == "es"

    page.click("[data-testid=logout]")
    page.wait_for_url(lambda url: "/login/" in url)
    page.goto(f"{live_app}/inbox/")
    assert "/login/" in page.url
