"""Lemon Squeezy: checkout links, plan changes, cancellation and its webhooks (``X-Signature``
HMAC), through ``requests`` against a local stand-in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from accounts.models import Workspace
from billing import services
from billing.models import BillingEvent, Invoice, Notice, Subscription
from billing.tests.stand_ins import (
    LS_VARIANTS,
    ls_event,
    ls_invoice,
    ls_signature,
    ls_subscription,
    post_lemonsqueezy,
)

pytestmark = pytest.mark.django_db


def _plan(workspace) -> str:
    return Workspace.objects.get(pk=workspace.pk).plan


def _deliver(client, workspace, name, data):
    return post_lemonsqueezy(client, ls_event(name, data, workspace_id=str(workspace.pk)))


def test_subscribing_creates_a_lemonsqueezy_checkout(admin_client, workspace, lemonsqueezy_api):
    lemonsqueezy_api.respond(
        "POST",
        r"^/v1/checkouts$",
        status=201,
        body={
            "data": {"type": "checkouts", "id": "c1", "attributes": {"url": "https://ls.test/c1"}}
        },
    )

    response = admin_client.post(
        "/api/payments/subscribe/lemonsqueezy", {"plan": "starter"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["checkout_url"] == "https://ls.test/c1"
    (call,) = lemonsqueezy_api.calls
    assert call.headers["Authorization"] == "Bearer ls_test_flame"
    assert call.headers["Content-Type"] == "application/vnd.api+json"
    data = call.body["data"]
    assert data["attributes"]["checkout_data"]["custom"] == {
        "workspace_id": str(workspace.pk),
        "plan": "starter",
    }
    assert data["attributes"]["checkout_data"]["email"] == "admin@a.example"
    assert data["relationships"]["variant"]["data"] == {"type": "variants", "id": "101"}
    assert data["relationships"]["store"]["data"] == {"type": "stores", "id": "4242"}


def test_the_catalogue_says_where_each_plan_can_be_paid(anonymous_client, lemonsqueezy_api):
    body = anonymous_client.get("/api/payments/plans").json()

    assert [(plan["code"], plan["providers"]) for plan in body["results"]] == [
        ("free", []),
        ("starter", ["lemonsqueezy"]),
        ("pro", ["lemonsqueezy"]),
        ("business", ["lemonsqueezy"]),
    ]


def test_a_signed_subscription_event_gives_the_workspace_its_plan(
    provider_client, workspace, lemonsqueezy_api
):
    workspace.plan = "free"
    workspace.save()

    response = _deliver(provider_client, workspace, "subscription_created", ls_subscription())

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "duplicate": False, "result": "processed"}
    assert _plan(workspace) == "pro"
    row = Subscription.objects.get()
    assert (row.provider, row.subscription_id, row.customer_id, row.status) == (
        "lemonsqueezy",
        "7001",
        "9001",
        "active",
    )
    assert BillingEvent.objects.get().event_id == (
        "subscription_created:subscriptions:7001:2026-11-01T10:00:00.000000Z"
    )


@pytest.mark.parametrize(
    ("signature", "status", "code"),
    [
        ("", 401, "signature_missing"),
        ("0" * 64, 403, "signature_invalid"),
        ("wrong-secret", 403, "signature_invalid"),
    ],
)
def test_deliveries_not_signed_by_lemonsqueezy_store_nothing(
    provider_client, workspace, lemonsqueezy_api, signature, status, code
):
    body = ls_event("subscription_created", ls_subscription(), workspace_id=str(workspace.pk))
    if signature == "wrong-secret":
        signature = ls_signature(body, secret="another-store")

    response = post_lemonsqueezy(provider_client, body, signature)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert BillingEvent.objects.count() == 0
    assert Subscription.objects.count() == 0


def test_a_replayed_delivery_changes_nothing(provider_client, workspace, lemonsqueezy_api):
    body = ls_event("subscription_created", ls_subscription(), workspace_id=str(workspace.pk))

    post_lemonsqueezy(provider_client, body)
    again = post_lemonsqueezy(provider_client, body)

    assert again.json() == {"status": "ok", "duplicate": True, "result": "processed"}
    assert BillingEvent.objects.count() == 1
    assert Subscription.objects.count() == 1


def test_updates_delivered_out_of_order_keep_the_newest(
    provider_client, workspace, lemonsqueezy_api
):
    newer = ls_subscription(plan="business", updated_at="2026-11-02T10:00:00.000000Z")
    older = ls_subscription(plan="starter", updated_at="2026-11-01T10:00:00.000000Z")

    _deliver(provider_client, workspace, "subscription_updated", newer)
    response = _deliver(provider_client, workspace, "subscription_updated", older)

    assert response.json()["result"] == "ignored"
    assert _plan(workspace) == "business"


def test_cancelled_keeps_the_plan_until_it_expires(provider_client, workspace, lemonsqueezy_api):
    _deliver(provider_client, workspace, "subscription_created", ls_subscription())
    cancelled = ls_subscription(
        status="cancelled", cancelled=True, updated_at="2026-11-05T10:00:00.000000Z"
    )
    _deliver(provider_client, workspace, "subscription_cancelled", cancelled)
    assert _plan(workspace) == "pro"
    assert Subscription.objects.get().cancel_at_period_end is True

    expired = ls_subscription(
        status="expired", cancelled=True, updated_at="2026-12-01T10:00:01.000000Z"
    )
    _deliver(provider_client, workspace, "subscription_expired", expired)

    assert _plan(workspace) == "free"
    assert Subscription.objects.get().status == "canceled"


def test_a_failed_payment_goes_through_the_grace_period(
    provider_client, workspace, admin_user, lemonsqueezy_api, django_capture_on_commit_callbacks
):
    _deliver(provider_client, workspace, "subscription_created", ls_subscription())
    failed = ls_invoice(status="pending", updated_at="2026-11-05T10:00:00.000000Z")

    with django_capture_on_commit_callbacks(execute=True):
        _deliver(provider_client, workspace, "subscription_payment_failed", failed)
    row = Subscription.objects.get()
    assert (row.grace_until is not None, _plan(workspace)) == (True, "pro")
    assert Notice.objects.get().kind == "payment_failed"
    assert mail.outbox[0].to == [admin_user.email]

    services.subscriptions_lapse(now=row.grace_until + timedelta(seconds=1))
    assert _plan(workspace) == "free"

    recovered = ls_invoice(status="paid", updated_at="2026-11-08T10:00:00.000000Z")
    _deliver(provider_client, workspace, "subscription_payment_recovered", recovered)
    assert _plan(workspace) == "pro"
    invoice = Invoice.objects.get()
    assert (invoice.status, str(invoice.amount), invoice.currency) == ("paid", "39.00", "USD")
    assert invoice.url == "https://flame.lemonsqueezy.test/invoice/8001"


def _live(provider_client, workspace, lemonsqueezy_api):
    _deliver(provider_client, workspace, "subscription_created", ls_subscription())
    lemonsqueezy_api.respond("GET", r"^/v1/subscriptions/7001$", body={"data": ls_subscription()})


def test_changing_plan_patches_the_variant(
    provider_client, admin_client, workspace, lemonsqueezy_api
):
    _live(provider_client, workspace, lemonsqueezy_api)
    changed = ls_subscription(plan="business", updated_at="2026-11-03T10:00:00.000000Z")
    lemonsqueezy_api.respond("PATCH", r"^/v1/subscriptions/7001$", body={"data": changed})

    response = admin_client.post(
        "/api/payments/subscribe/lemonsqueezy", {"plan": "business"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["subscription"]["plan"] == "business"
    (call,) = lemonsqueezy_api.calls_to(r"^/v1/subscriptions/7001$")
    assert call.method == "PATCH"
    assert call.body["data"]["attributes"] == {
        "variant_id": int(LS_VARIANTS["business"]),
        "cancelled": False,
    }
    assert _plan(workspace) == "business"


def test_subscribing_through_the_other_provider_is_refused(
    provider_client, admin_client, workspace, lemonsqueezy_api, stripe_api
):
    _live(provider_client, workspace, lemonsqueezy_api)

    response = admin_client.post(
        "/api/payments/subscribe/stripe", {"plan": "business"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "subscribed_elsewhere"
    assert stripe_api.calls == []


def test_cancel_portal_and_card(provider_client, admin_client, workspace, lemonsqueezy_api):
    _live(provider_client, workspace, lemonsqueezy_api)
    cancelled = ls_subscription(
        status="cancelled", cancelled=True, updated_at="2026-11-04T10:00:00.000000Z"
    )
    lemonsqueezy_api.respond("DELETE", r"^/v1/subscriptions/7001$", body={"data": cancelled})

    cancel = admin_client.post("/api/payments/subscription/cancel")
    portal = admin_client.post("/api/payments/portal")
    cards = admin_client.get("/api/payments/payment-methods")

    assert cancel.json()["subscription"]["cancel_at_period_end"] is True
    assert cancel.json()["subscription"]["current_period_end"] == "2026-12-01T10:00:00Z"
    assert portal.json() == {"url": "https://flame.lemonsqueezy.test/billing?signed=1"}
    assert cards.json() == {
        "results": [{"brand": "visa", "last4": "4242", "exp_month": None, "exp_year": None}]
    }
    assert _plan(workspace) == "pro"
