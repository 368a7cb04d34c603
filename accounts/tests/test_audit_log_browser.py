"""The audit log page in a real Chromium at 1440x900 and 390x844: it fits, shows what happened
(here: the admin's own sign-in and a settings change) and filters by action."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts import audit
from accounts.tests.factories import DEFAULT_PASSWORD
from flame.testing import assert_usable_at, browser_sign_in, context_options, watch_errors

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_an_admin_reads_and_filters_the_audit_log(chromium, live_app, admin_user, size):
    workspace = admin_user.workspace
    workspace.language = "en"
    workspace.save(update_fields=["language"])
    for number in range(55):  # more than a page
        audit.record(
            action=audit.EXPORT_DOWNLOADED,
            workspace_id=workspace.pk,
            actor=admin_user,
            target=("export", "conversations.csv"),
            data={"export": "conversations.csv", "from": "2026-01-01", "to": f"n{number}"},
        )
    context = chromium.new_context(**context_options(size))
    errors = watch_errors(context)
    page = context.new_page()
    browser_sign_in(page, live_app, admin_user.email, DEFAULT_PASSWORD)

    page.goto(f"{live_app}/settings/workspace/")
    page.get_by_test_id("link-audit-log").click()
    page.wait_for_url(lambda url: url.endswith("/settings/audit-log/"))
    page.wait_for_load_state("networkidle")
    assert_usable_at(page, size)
    expect(page.get_by_test_id("audit-entry")).to_have_count(50)
    expect(page.get_by_test_id("audit-pager")).to_be_visible()

    page.select_option("select[name=action]", audit.SIGN_IN)
    page.get_by_test_id("audit-filter").click()
    page.wait_for_url(lambda url: "action=auth.sign_in" in url)
    page.wait_for_load_state("networkidle")
    expect(page.get_by_test_id("audit-entry")).to_have_count(1)
    expect(page.get_by_test_id("audit-entry")).to_contain_text("Signed in")
    assert_usable_at(page, size)
    context.close()
    assert errors == []
