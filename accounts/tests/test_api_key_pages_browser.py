"""The API keys page in a real Chromium at 1440x900 and 390x844: it fits, and an admin creates a
key (the secret shown once), sees it listed and revokes it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import ApiKey
from accounts.tests.factories import DEFAULT_PASSWORD
from accounts.tokens import token_digest
from flame.testing import assert_usable_at, browser_sign_in, context_options, watch_errors

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_an_admin_creates_lists_and_revokes_a_key(chromium, live_app, admin_user, size):
    admin_user.workspace.language = "en"
    admin_user.workspace.save(update_fields=["language"])
    context = chromium.new_context(**context_options(size))
    errors = watch_errors(context)
    page = context.new_page()
    browser_sign_in(page, live_app, admin_user.email, DEFAULT_PASSWORD)

    page.goto(f"{live_app}/settings/workspace/")
    page.get_by_test_id("link-api-keys").click()
    page.wait_for_url(lambda url: url.endswith("/settings/api-keys/"))
    page.wait_for_load_state("networkidle")
    assert_usable_at(page, size)
    expect(page.get_by_test_id("api-keys-empty")).to_be_visible()

    page.fill("input[name=name]", "Shop sync")
    page.get_by_label("Write contacts").check()
    page.select_option("select[name=expires_in_days]", "90")
    page.get_by_test_id("api-key-create").click()

    secret = page.get_by_test_id("api-key-secret").input_value()
    assert secret.startswith("flm_")
    assert ApiKey.objects.get().digest == token_digest(secret)
    expect(page.get_by_test_id("api-key-row")).to_have_count(1)
    page.wait_for_load_state("networkidle")
    assert_usable_at(page, size)

    page.get_by_test_id("api-key-revoke").click()
    page.wait_for_url(lambda url: url.endswith("/revoke/"))
    page.wait_for_load_state("networkidle")
    assert_usable_at(page, size)
    page.get_by_test_id("confirm-revoke-submit").click()
    page.wait_for_url(lambda url: url.endswith("/settings/api-keys/"))
    expect(page.get_by_test_id("api-key-state")).to_have_text("Revoked")
    expect(page.get_by_test_id("api-key-secret")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    assert_usable_at(page, size)
    context.close()
    assert errors == []
