"""The billing page in a real browser, on a laptop and a phone: from Free, through Stripe's
checkout (the local stand-in answers with the page's own address, as Stripe sends the buyer
back), to the plan applied by the signed webhook, its invoice, and a notice dismissed."""

from __future__ import annotations

import time

import pytest
import requests
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD
from billing.models import Notice
from billing.tests import stand_ins
from flame.testing import (
    assert_usable_at,
    browser_sign_in,
    context_options,
    live_daphne,
    watch_errors,
)
from integrations.tests.fake_api import FakeApi

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stripe_stand_in():
    api = FakeApi().start()
    yield api
    api.stop()


@pytest.fixture
def billing_app(transactional_db, stripe_stand_in):
    prices = {
        f"STRIPE_PRICE_{plan.upper()}": price for plan, price in stand_ins.STRIPE_PRICES.items()
    }
    with live_daphne(
        CELERY_TASK_ALWAYS_EAGER="1",
        RATELIMIT_ENABLE="0",
        STRIPE_SECRET_KEY=stand_ins.STRIPE_KEY,
        STRIPE_WEBHOOK_SECRET=stand_ins.STRIPE_SECRET,
        STRIPE_API_BASE=stripe_stand_in.base_url,
        LEMONSQUEEZY_API_KEY="",
        BILLING_MAX_NETWORK_RETRIES="0",
        **prices,
    ) as url:
        yield url


def _deliver(url: str, kind: str, obj: dict, event_id: str) -> None:
    body = stand_ins.stripe_event(kind, obj, created=int(time.time()), event_id=event_id)
    response = requests.post(
        f"{url}/api/webhooks/stripe",
        data=body,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": stand_ins.stripe_signature(body),
        },
        timeout=10,
    )
    assert response.json()["result"] == "processed"


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_upgrade_from_free_through_checkout(
    chromium, billing_app, stripe_stand_in, admin_user, workspace, size
):
    workspace.plan = "free"
    workspace.save()
    admin_user.language = "en"
    admin_user.save()
    Notice.objects.create(workspace=workspace, kind="announcement", title="Scheduled maintenance")
    stripe_stand_in.respond(
        "POST",
        r"^/v1/checkout/sessions$",
        body={
            "id": "cs_1",
            "object": "checkout.session",
            "url": f"{billing_app}/settings/billing/?checkout=success",
        },
    )
    context = chromium.new_context(**context_options(size))
    errors = watch_errors(context)
    page = context.new_page()
    browser_sign_in(page, billing_app, admin_user.email, DEFAULT_PASSWORD)

    # the page: Free, its usage, the plans
    page.goto(f"{billing_app}/settings/billing/")
    expect(page.get_by_test_id("current-plan-name")).to_have_text("Free")
    expect(page.get_by_test_id("meter")).to_have_count(4)
    expect(page.get_by_test_id("meter-figure").nth(3)).to_have_text("1 of 2")
    expect(page.get_by_test_id("notice")).to_have_count(1)
    assert_usable_at(page, size)

    # a notice goes away once dismissed
    page.get_by_test_id("notice-dismiss").click()
    expect(page.get_by_test_id("notice")).to_have_count(0)

    # upgrade: Stripe's checkout, then back to the page
    page.get_by_test_id("plan-pro").get_by_test_id("plan-upgrade-stripe").click()
    expect(page.get_by_test_id("checkout-message")).to_be_visible()
    sent = stand_ins.form(stripe_stand_in.calls_to(r"^/v1/checkout/sessions$")[0].body)
    assert sent["line_items[0][price]"] == "price_pro"

    # Stripe confirms: the subscription and its first invoice
    subscription = stand_ins.stripe_subscription(workspace_id=str(workspace.pk), plan="pro")
    _deliver(billing_app, "customer.subscription.created", subscription, "evt_sub")
    _deliver(billing_app, "invoice.paid", stand_ins.stripe_invoice(), "evt_inv")
    page.goto(f"{billing_app}/settings/billing/")
    expect(page.get_by_test_id("current-plan-name")).to_have_text("Pro")
    expect(page.get_by_test_id("plan-pro").get_by_test_id("plan-current")).to_be_visible()
    expect(page.get_by_test_id("invoice-row")).to_have_count(1)
    expect(page.get_by_test_id("invoice-row")).to_contain_text("FLAME-in_1")
    expect(page.get_by_test_id("billing-cancel")).to_be_visible()
    assert_usable_at(page, size)
    context.close()
    assert errors == []
