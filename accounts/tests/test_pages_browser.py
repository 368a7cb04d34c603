"""Sign-in pages in a real browser against a real daphne: session, CSRF, language, sign-out."""

from __future__ import annotations

import pytest

from accounts.tests.factories import DEFAULT_PASSWORD
from flame.testing import VIEWPORTS, assert_fits_viewport, browser_sign_in

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


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_signup_confirmation_page_fits_and_signs_in(chromium, live_app, size):
    # given: a registration waiting for its e-mailed link
    from accounts.emails import signup_token_for
    from accounts.models import User, Workspace

    workspace = Workspace.objects.create(name="Tacos Fer", settings={"signup_pending": True})
    pending = User.objects.create_user(
        email="founder@shop.example", name="Fer", role="admin", workspace=workspace, is_pending=True
    )
    context = chromium.new_context(locale="en-US", viewport=VIEWPORTS[size])
    page = context.new_page()

    # when
    page.goto(f"{live_app}/signup/confirm/{signup_token_for(pending)}/")

    # then
    assert_fits_viewport(page, VIEWPORTS[size]["width"])
    page.click("[data-testid=signup-confirm]")
    page.wait_for_url(lambda url: url.endswith("/inbox/"))
    context.close()
    pending.refresh_from_db()
    assert pending.is_pending is False


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_agents_page_invites(chromium, live_app, admin_user, size):
    context = chromium.new_context(locale="en-US", viewport=VIEWPORTS[size])
    page = context.new_page()
    browser_sign_in(page, live_app, admin_user.email, DEFAULT_PASSWORD)

    page.goto(f"{live_app}/settings/agents/")
    assert_fits_viewport(page, VIEWPORTS[size]["width"])
    page.fill("input[name=email]", "new.agent@a.example")
    page.fill("input[name=name]", "New Agent")
    page.click("[data-testid=invite-submit]")

    page.wait_for_selector("text=new.agent@a.example")
    assert_fits_viewport(page, VIEWPORTS[size]["width"])
    context.close()
