"""The "Plan and billing" page: what it shows, and its forms calling the API's services."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from billing.models import Invoice, Subscription
from billing.tests.stand_ins import form, post_stripe, stripe_event, stripe_subscription
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

PAGE = "/settings/billing/"


@pytest.fixture
def page_client(client, admin_user):
    admin_user.language = "en"
    admin_user.save()
    client.force_login(admin_user)
    return client


def _live_pro(provider_client, workspace):
    obj = stripe_subscription(workspace_id=str(workspace.pk), plan="pro")
    body = stripe_event(
        "customer.subscription.created", obj, created=int(time.time()), event_id="evt_1"
    )
    post_stripe(provider_client, body)


def test_only_workspace_admins_open_it(client, agent_user):
    assert client.get(PAGE).status_code == 302  # to the sign-in page
    client.force_login(agent_user)
    assert client.get(PAGE).status_code == 403


def test_the_page_shows_the_plan_usage_and_the_ways_up(page_client, workspace, stripe_api):
    workspace.plan = "free"
    workspace.save()
    IntegrationFactory(workspace=workspace, platform="telegram")

    html = page_client.get(PAGE).content.decode()

    assert '<span data-testid="current-plan-name">Free</span>' in html
    assert "No paid subscription: choose a plan below to upgrade." in html
    assert '<span class="meter-figure" data-testid="meter-figure">1 of 2</span>' in html
    assert 'aria-valuenow="50"' in html
    assert 'data-testid="plan-upgrade-stripe"' in html
    assert 'data-testid="plan-downgrade-stripe"' not in html
    assert "API access is not included." in html
    assert 'data-testid="invoices-empty"' in html


def test_upgrading_goes_to_the_provider_s_checkout(page_client, workspace, stripe_api):
    workspace.plan = "free"
    workspace.save()
    stripe_api.respond(
        "POST",
        r"^/v1/checkout/sessions$",
        body={"id": "cs_1", "object": "checkout.session", "url": "https://checkout.test/cs_1"},
    )

    response = page_client.post(f"{PAGE}subscribe/", {"plan": "business", "provider": "stripe"})

    assert (response.status_code, response["Location"]) == (302, "https://checkout.test/cs_1")
    assert form(stripe_api.calls[0].body)["metadata[plan]"] == "business"


def test_the_way_back_from_checkout_says_what_happens_next(page_client, stripe_api):
    html = page_client.get(f"{PAGE}?checkout=success").content.decode()

    assert "Your payment is being confirmed; the new plan applies in a moment." in html


def test_a_refused_change_shows_why_and_changes_nothing(
    page_client, provider_client, workspace, stripe_api
):
    _live_pro(provider_client, workspace)

    response = page_client.post(f"{PAGE}subscribe/", {"plan": "pro", "provider": "stripe"})

    assert response.status_code == 409
    assert "The workspace is on this plan already." in response.content.decode()
    assert stripe_api.calls == []


def test_choosing_no_provider_is_a_400(page_client, stripe_api):
    response = page_client.post(f"{PAGE}subscribe/", {"plan": "pro", "provider": "paypal"})

    assert response.status_code == 400
    assert "Choose how to pay." in response.content.decode()
    assert stripe_api.calls == []


def test_downgrading_to_free_cancels_at_the_end_of_the_period(
    page_client, provider_client, workspace, stripe_api
):
    _live_pro(provider_client, workspace)
    stripe_api.respond(
        "POST",
        r"^/v1/subscriptions/sub_1$",
        body=stripe_subscription(workspace_id=str(workspace.pk), cancel_at_period_end=True),
    )

    response = page_client.post(f"{PAGE}cancel/", follow=True)

    html = response.content.decode()
    assert "The subscription ends on Jan. 15, 2027; the workspace then moves to Free." in html
    assert "The plan stays until Jan. 15, 2027, then the workspace moves to Free." in html
    assert Subscription.objects.get().cancel_at_period_end is True


def test_the_portal_button_goes_to_the_provider(
    page_client, provider_client, workspace, stripe_api
):
    _live_pro(provider_client, workspace)
    stripe_api.respond(
        "POST",
        r"^/v1/billing_portal/sessions$",
        body={"id": "bps_1", "object": "billing_portal.session", "url": "https://portal.test/1"},
    )

    response = page_client.post(f"{PAGE}portal/")

    assert (response.status_code, response["Location"]) == (302, "https://portal.test/1")


def test_invoices_are_the_workspace_s_own(page_client, workspace, outsider):
    for owner, number in ((workspace, "MINE-1"), (outsider.workspace, "THEIRS-1")):
        Invoice.objects.create(
            workspace=owner,
            provider="stripe",
            external_id=number,
            number=number,
            status="paid",
            amount="39.00",
            currency="USD",
            url=f"https://invoice.test/{number}",
            issued_at=timezone.now(),
        )

    html = page_client.get(PAGE).content.decode()

    assert "MINE-1" in html
    assert "THEIRS-1" not in html
    assert html.count('data-testid="invoice-row"') == 1
