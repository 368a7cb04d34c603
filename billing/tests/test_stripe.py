"""Stripe: checkout, plan changes, cancellation, portal, payment methods and its webhooks, with
the official ``stripe`` package talking to a local stand-in and deliveries signed as Stripe
signs them."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Workspace
from billing import services
from billing.models import BillingEvent, Invoice, Notice, Subscription
from billing.tests.stand_ins import (
    STRIPE_PRICES,
    form,
    post_stripe,
    stripe_event,
    stripe_invoice,
    stripe_signature,
    stripe_subscription,
)

pytestmark = pytest.mark.django_db

NOW = int(time.time())


def _subscribed(client, workspace, *, plan="pro", created=NOW, event_id="evt_created", **extra):
    obj = stripe_subscription(workspace_id=str(workspace.pk), plan=plan, **extra)
    body = stripe_event("customer.subscription.created", obj, created=created, event_id=event_id)
    return post_stripe(client, body)


def _plan(workspace) -> str:
    return Workspace.objects.get(pk=workspace.pk).plan


@pytest.fixture
def free_workspace(workspace):
    workspace.plan = "free"
    workspace.save()
    return workspace


# --- checkout ----------------------------------------------------------------------------------


def test_subscribing_opens_a_stripe_checkout_for_the_plan(
    admin_user, free_workspace, stripe_api, settings
):
    # given: the Free plan has no API access, so the admin uses the product's session
    stripe_api.respond(
        "POST",
        r"^/v1/checkout/sessions$",
        body={"id": "cs_1", "object": "checkout.session", "url": "https://checkout.test/cs_1"},
    )
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(admin_user)

    # when
    response = client.post("/api/payments/subscribe/stripe", {"plan": "pro"}, format="json")

    # then
    assert response.status_code == 201
    assert response.json() == {"checkout_url": "https://checkout.test/cs_1", "subscription": None}
    (call,) = stripe_api.calls_to(r"^/v1/checkout/sessions$")
    sent = form(call.body)
    assert call.headers["Authorization"] == "Bearer sk_test_flame"
    assert sent["mode"] == "subscription"
    assert sent["line_items[0][price]"] == STRIPE_PRICES["pro"]
    assert sent["line_items[0][quantity]"] == "1"
    assert sent["client_reference_id"] == str(free_workspace.pk)
    assert sent["metadata[plan]"] == "pro"
    assert sent["subscription_data[metadata][workspace_id]"] == str(free_workspace.pk)
    assert sent["customer_email"] == admin_user.email
    assert sent["success_url"] == "https://flame.example/settings/billing/?checkout=success"
    assert sent["cancel_url"] == "https://flame.example/settings/billing/?checkout=cancelled"
    assert _plan(free_workspace) == "free"  # nothing is applied before Stripe says it is paid


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"plan": "free"}, "plan"),
        ({"plan": "gold"}, "plan"),
        ({}, "plan"),
        ({"plan": "pro", "coupon": "x"}, "coupon"),
    ],
)
def test_subscribe_refuses_bad_input(admin_client, stripe_api, body, field):
    response = admin_client.post("/api/payments/subscribe/stripe", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["details"]
    assert stripe_api.calls == []


def test_subscribe_through_an_unconfigured_provider_is_refused(admin_client):
    response = admin_client.post("/api/payments/subscribe/stripe", {"plan": "pro"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "provider_unavailable"
    assert Subscription.objects.count() == 0


def test_agents_cannot_subscribe(agent_client, stripe_api):
    response = agent_client.post("/api/payments/subscribe/stripe", {"plan": "pro"}, format="json")

    assert response.status_code == 403
    assert stripe_api.calls == []


def test_a_stripe_failure_is_a_502_and_changes_nothing(admin_client, stripe_api):
    stripe_api.respond(
        "POST", r"^/v1/checkout/sessions$", status=500, body={"error": {"message": "down"}}
    )

    response = admin_client.post("/api/payments/subscribe/stripe", {"plan": "pro"}, format="json")

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "payment_provider_error"
    assert "sk_test" not in response.content.decode()
    assert Subscription.objects.count() == 0


# --- webhooks: signature ------------------------------------------------------------------------


def test_a_signed_subscription_event_gives_the_workspace_its_plan(
    provider_client, free_workspace, stripe_api
):
    response = _subscribed(provider_client, free_workspace, plan="pro")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "duplicate": False, "result": "processed"}
    assert _plan(free_workspace) == "pro"
    row = Subscription.objects.get()
    assert (row.provider, row.subscription_id, row.customer_id) == ("stripe", "sub_1", "cus_1")
    assert (row.plan, row.status, row.cancel_at_period_end) == ("pro", "active", False)
    assert row.current_period_end.timestamp() == 1_800_000_000
    event = BillingEvent.objects.get()
    assert (event.event_id, event.kind, event.workspace_id) == (
        "evt_created",
        "customer.subscription.created",
        free_workspace.pk,
    )


@pytest.mark.parametrize(
    ("signature", "status", "code"),
    [
        ("", 401, "signature_missing"),
        ("t=1,v1=deadbeef", 403, "signature_invalid"),
        ("garbage", 403, "signature_invalid"),
        ("wrong-secret", 403, "signature_invalid"),
        ("too-old", 403, "signature_invalid"),
    ],
)
def test_deliveries_not_signed_by_stripe_store_nothing(
    provider_client, free_workspace, stripe_api, signature, status, code
):
    obj = stripe_subscription(workspace_id=str(free_workspace.pk))
    body = stripe_event("customer.subscription.created", obj, created=NOW, event_id="evt_x")
    if signature == "wrong-secret":
        signature = stripe_signature(body, secret="whsec_someone_else")
    elif signature == "too-old":
        # A genuine signature, captured and replayed after the tolerance (300 s).
        signature = stripe_signature(body, at=int(time.time()) - 301)

    response = post_stripe(provider_client, body, signature)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert BillingEvent.objects.count() == 0
    assert Subscription.objects.count() == 0
    assert _plan(free_workspace) == "free"


def test_a_body_changed_after_signing_is_refused(provider_client, free_workspace, stripe_api):
    obj = stripe_subscription(workspace_id=str(free_workspace.pk), plan="starter")
    body = stripe_event("customer.subscription.created", obj, created=NOW, event_id="evt_x")
    signature = stripe_signature(body)

    response = post_stripe(provider_client, body.replace(b"starter", b"business"), signature)

    assert response.status_code == 403
    assert BillingEvent.objects.count() == 0


def test_a_signed_body_that_is_not_json_is_a_400(provider_client, stripe_api):
    response = post_stripe(provider_client, b"not json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_event"
    assert BillingEvent.objects.count() == 0


# --- webhooks: idempotency and order ------------------------------------------------------------


def test_a_replayed_event_changes_nothing(
    provider_client, free_workspace, admin_user, stripe_api, django_capture_on_commit_callbacks
):
    body = stripe_event(
        "invoice.payment_failed",
        stripe_invoice(paid=False),
        created=NOW + 10,
        event_id="evt_failed",
    )
    _subscribed(provider_client, free_workspace)

    with django_capture_on_commit_callbacks(execute=True):
        first = post_stripe(provider_client, body)
        again = post_stripe(provider_client, body)

    assert first.json()["duplicate"] is False
    assert again.status_code == 200
    assert again.json() == {"status": "ok", "duplicate": True, "result": "processed"}
    assert BillingEvent.objects.filter(event_id="evt_failed").count() == 1
    assert Notice.objects.filter(kind="payment_failed").count() == 1
    assert len(mail.outbox) == 1


def test_an_older_state_delivered_late_never_undoes_a_newer_one(
    provider_client, free_workspace, stripe_api
):
    # given: the admin upgraded to Business (t+100) after subscribing to Starter (t)
    _subscribed(provider_client, free_workspace, plan="business", created=NOW + 100)

    # when: Stripe delivers the older Starter state afterwards
    late = stripe_subscription(workspace_id=str(free_workspace.pk), plan="starter")
    body = stripe_event("customer.subscription.updated", late, created=NOW, event_id="evt_old")
    response = post_stripe(provider_client, body)

    # then
    assert response.json()["result"] == "ignored"
    assert BillingEvent.objects.get(event_id="evt_old").note == (
        "older than the state already applied"
    )
    assert _plan(free_workspace) == "business"
    assert Subscription.objects.get().plan == "business"


def test_an_ended_subscription_stays_ended_whatever_arrives_after(
    provider_client, free_workspace, stripe_api
):
    _subscribed(provider_client, free_workspace, plan="pro", created=NOW)
    ended = stripe_subscription(workspace_id=str(free_workspace.pk), status="canceled")
    post_stripe(
        provider_client,
        stripe_event("customer.subscription.deleted", ended, created=NOW + 50, event_id="evt_d"),
    )
    assert _plan(free_workspace) == "free"

    # A retried "updated" with a later timestamp but describing the live subscription.
    revived = stripe_subscription(workspace_id=str(free_workspace.pk), status="active")
    body = stripe_event("customer.subscription.updated", revived, created=NOW + 60, event_id="e")
    response = post_stripe(provider_client, body)

    assert response.json()["result"] == "ignored"
    assert _plan(free_workspace) == "free"
    assert Subscription.objects.get().status == "canceled"


def test_checkout_completed_before_the_subscription_event_applies_the_plan(
    provider_client, free_workspace, stripe_api
):
    session = {
        "id": "cs_1",
        "object": "checkout.session",
        "mode": "subscription",
        "client_reference_id": str(free_workspace.pk),
        "customer": "cus_1",
        "subscription": "sub_1",
        "payment_status": "paid",
        "metadata": {"workspace_id": str(free_workspace.pk), "plan": "starter"},
    }
    body = stripe_event("checkout.session.completed", session, created=NOW, event_id="evt_cs")

    response = post_stripe(provider_client, body)
    assert response.json()["result"] == "processed"
    assert _plan(free_workspace) == "starter"

    # The subscription's own event, a second later, is the authority from then on.
    _subscribed(provider_client, free_workspace, plan="pro", created=NOW + 1)
    assert _plan(free_workspace) == "pro"
    assert Subscription.objects.count() == 1


def test_events_of_unknown_workspaces_are_kept_and_ignored(provider_client, stripe_api):
    obj = stripe_subscription(workspace_id="00000000-0000-0000-0000-000000000000")
    body = stripe_event("customer.subscription.created", obj, created=NOW, event_id="evt_u")

    response = post_stripe(provider_client, body)

    assert response.status_code == 200
    assert response.json()["result"] == "ignored"
    assert Subscription.objects.count() == 0


def test_event_kinds_billing_does_not_act_on_are_acknowledged(provider_client, stripe_api):
    body = stripe_event("customer.created", {"id": "cus_9"}, created=NOW, event_id="evt_c")

    response = post_stripe(provider_client, body)

    assert response.json() == {"status": "ok", "duplicate": False, "result": "ignored"}


# --- invoices and the grace period --------------------------------------------------------------


def test_paid_invoices_are_listed_for_the_admin(
    provider_client, admin_client, outsider_client, workspace, stripe_api
):
    _subscribed(provider_client, workspace)
    post_stripe(
        provider_client,
        stripe_event("invoice.paid", stripe_invoice(), created=NOW + 5, event_id="evt_paid"),
    )

    body = admin_client.get("/api/payments/invoices").json()

    (invoice,) = body["results"]
    assert invoice["number"] == "FLAME-in_1"
    assert (invoice["status"], invoice["amount"], invoice["currency"]) == ("paid", "39.00", "USD")
    assert invoice["url"] == "https://invoice.stripe.test/in_1"
    assert invoice["pdf_url"] == "https://invoice.stripe.test/in_1.pdf"
    assert outsider_client.get("/api/payments/invoices").json()["results"] == []


def test_a_failed_payment_keeps_the_plan_through_the_grace_period_then_free(
    provider_client, workspace, admin_user, stripe_api, django_capture_on_commit_callbacks
):
    # given: a Pro subscription whose renewal payment fails
    _subscribed(provider_client, workspace, plan="pro")
    failed = stripe_invoice(invoice_id="in_2", paid=False)
    with django_capture_on_commit_callbacks(execute=True):
        post_stripe(
            provider_client,
            stripe_event("invoice.payment_failed", failed, created=NOW + 10, event_id="evt_f"),
        )
    row = Subscription.objects.get()
    assert row.grace_until is not None
    assert _plan(workspace) == "pro"
    assert Invoice.objects.get().status == "failed"
    notice = Notice.objects.get()
    assert (notice.workspace_id, notice.kind, notice.level) == (
        workspace.pk,
        "payment_failed",
        "warning",
    )
    assert [message.to for message in mail.outbox] == [[admin_user.email]]

    # when: the sweeper runs inside the grace period, then after it
    inside = services.subscriptions_lapse(now=row.grace_until - timedelta(hours=1))
    assert (inside, _plan(workspace)) == (0, "pro")
    with django_capture_on_commit_callbacks(execute=True):
        after = services.subscriptions_lapse(now=row.grace_until + timedelta(minutes=1))

    # then: Free, and the admins are told in the product and by e-mail
    assert after == 1
    assert _plan(workspace) == "free"
    assert Subscription.objects.get().lapsed_at is not None
    assert list(Notice.objects.order_by("created_at").values_list("kind", flat=True)) == [
        "payment_failed",
        "plan_lapsed",
    ]
    assert len(mail.outbox) == 2
    assert services.subscriptions_lapse(now=row.grace_until + timedelta(days=1)) == 0

    # and a payment that finally goes through gives the plan back
    paid = stripe_invoice(invoice_id="in_2", paid=True)
    post_stripe(provider_client, stripe_event("invoice.paid", paid, created=NOW + 20, event_id="p"))
    row = Subscription.objects.get()
    assert (row.grace_until, row.lapsed_at, _plan(workspace)) == (None, None, "pro")
    assert Invoice.objects.get().status == "paid"


def test_a_failure_reported_after_the_same_invoice_was_paid_changes_nothing(
    provider_client, workspace, stripe_api
):
    _subscribed(provider_client, workspace)
    paid = stripe_invoice(invoice_id="in_3", paid=True)
    post_stripe(provider_client, stripe_event("invoice.paid", paid, created=NOW + 20, event_id="p"))

    failed = stripe_invoice(invoice_id="in_3", paid=False)
    post_stripe(
        provider_client,
        stripe_event("invoice.payment_failed", failed, created=NOW + 10, event_id="f"),
    )

    row = Subscription.objects.get()
    assert (row.grace_until, _plan(workspace)) == (None, "pro")
    assert Invoice.objects.get().status == "paid"
    assert Notice.objects.count() == 0


def test_a_past_due_subscription_starts_the_grace_period_once(
    provider_client, workspace, stripe_api
):
    _subscribed(provider_client, workspace)
    for offset, event_id in ((10, "u1"), (20, "u2")):
        overdue = stripe_subscription(workspace_id=str(workspace.pk), status="past_due")
        body = stripe_event(
            "customer.subscription.updated", overdue, created=NOW + offset, event_id=event_id
        )
        post_stripe(provider_client, body)

    row = Subscription.objects.get()
    assert row.status == "past_due"
    assert _plan(workspace) == "pro"
    assert Notice.objects.filter(kind="payment_failed").count() == 1


# --- changes through the API --------------------------------------------------------------------


def _live_pro(provider_client, workspace, stripe_api):
    _subscribed(provider_client, workspace, plan="pro")
    stripe_api.respond(
        "GET",
        r"^/v1/subscriptions/sub_1$",
        body=stripe_subscription(workspace_id=str(workspace.pk), plan="pro"),
    )


def test_changing_plan_updates_the_stripe_subscription(
    provider_client, admin_client, workspace, stripe_api
):
    _live_pro(provider_client, workspace, stripe_api)
    stripe_api.respond(
        "POST",
        r"^/v1/subscriptions/sub_1$",
        body=stripe_subscription(workspace_id=str(workspace.pk), plan="business"),
    )

    response = admin_client.post(
        "/api/payments/subscribe/stripe", {"plan": "business"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["checkout_url"] is None
    assert (body["subscription"]["plan"], body["subscription"]["status"]) == ("business", "active")
    (update,) = stripe_api.calls_to(r"^/v1/subscriptions/sub_1$")[1:]
    sent = form(update.body)
    assert update.method == "POST"
    assert sent["items[0][id]"] == "si_1"
    assert sent["items[0][price]"] == STRIPE_PRICES["business"]
    assert sent["proration_behavior"] == "create_prorations"
    assert sent["cancel_at_period_end"] == "false"
    assert _plan(workspace) == "business"


def test_choosing_the_current_plan_again_is_a_conflict(
    provider_client, admin_client, workspace, stripe_api
):
    _live_pro(provider_client, workspace, stripe_api)

    response = admin_client.post("/api/payments/subscribe/stripe", {"plan": "pro"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_on_plan"
    assert stripe_api.calls_to(r"^/v1/subscriptions") == []


def test_cancel_keeps_the_plan_until_the_end_of_the_period(
    provider_client, admin_client, workspace, stripe_api
):
    _subscribed(provider_client, workspace, plan="pro")
    stripe_api.respond(
        "POST",
        r"^/v1/subscriptions/sub_1$",
        body=stripe_subscription(workspace_id=str(workspace.pk), cancel_at_period_end=True),
    )

    response = admin_client.post("/api/payments/subscription/cancel")
    again = admin_client.post("/api/payments/subscription/cancel")

    assert response.status_code == 200
    assert response.json()["subscription"]["cancel_at_period_end"] is True
    assert again.status_code == 200
    (call,) = stripe_api.calls_to(r"^/v1/subscriptions/sub_1$")
    assert form(call.body) == {"cancel_at_period_end": "true"}
    assert _plan(workspace) == "pro"


def test_cancel_without_a_subscription_is_a_conflict(admin_client, stripe_api):
    response = admin_client.post("/api/payments/subscription/cancel")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_subscription"


def test_portal_and_payment_methods_come_from_stripe(
    provider_client, admin_client, workspace, stripe_api
):
    _subscribed(provider_client, workspace)
    stripe_api.respond(
        "POST",
        r"^/v1/billing_portal/sessions$",
        body={"id": "bps_1", "object": "billing_portal.session", "url": "https://portal.test/1"},
    )
    card = {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}
    stripe_api.respond(
        "GET",
        r"^/v1/payment_methods$",
        body={
            "object": "list",
            "url": "/v1/payment_methods",
            "has_more": False,
            "data": [{"id": "pm_1", "object": "payment_method", "type": "card", "card": card}],
        },
    )

    portal = admin_client.post("/api/payments/portal")
    methods = admin_client.get("/api/payments/payment-methods")

    assert portal.json() == {"url": "https://portal.test/1"}
    assert form(stripe_api.calls_to(r"portal")[0].body) == {
        "customer": "cus_1",
        "return_url": "https://flame.example/settings/billing/",
    }
    assert methods.json() == {"results": [card]}
    assert "customer=cus_1" in stripe_api.calls_to(r"^/v1/payment_methods$")[0].query


def test_the_subscription_overview(provider_client, admin_client, workspace, stripe_api):
    _subscribed(provider_client, workspace, plan="pro")

    body = admin_client.get("/api/payments/subscription").json()

    assert body["plan"]["code"] == "pro"
    assert body["plan"]["monthly_price"] == "39.00"
    assert body["plan"]["providers"] == ["stripe"]
    assert body["subscription"] == {
        "provider": "stripe",
        "plan": "pro",
        "status": "active",
        "cancel_at_period_end": False,
        "current_period_end": "2027-01-15T08:00:00Z",
        "grace_until": None,
        "lapsed": False,
    }
    assert body["usage"]["agents"] == {"used": 1, "limit": 20}
    assert body["usage"]["channels"] == {"used": 0, "limit": 15}
    assert body["usage"]["ai_requests"] == {"used": 0, "limit": 10_000}


def test_mrr_counts_paying_subscriptions(provider_client, workspace, stripe_api):
    _subscribed(provider_client, workspace, plan="pro")

    from billing import selectors

    figures = selectors.platform_metrics(days=1, now=timezone.now())

    assert figures["mrr"] == Decimal("39")
