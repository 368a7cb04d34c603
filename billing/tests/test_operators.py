"""What the people who run the platform get: the figures (API and Django admin), notices to
every workspace's admins, the newest errors. Staff only."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.tests.factories import UserFactory, WorkspaceFactory
from assistants.tests.factories import AIUsageFactory
from billing.models import BillingEvent, Notice, NoticeDismissal, Subscription
from conftest import api_client_for
from conversations.tests.factories import ConversationFactory, MessageFactory
from flame.logging import recent_errors_store
from integrations.models import WebhookEvent

pytestmark = pytest.mark.django_db

OPERATOR_ENDPOINTS = [
    ("get", "/api/admin/metrics", None),
    ("post", "/api/admin/notifications", {"title": "Mantenimiento"}),
    ("get", "/api/admin/logs", None),
]


@pytest.fixture
def staff(db):
    """A platform operator: staff, of no workspace (``createsuperuser`` makes these)."""
    return UserFactory(workspace=None, role="admin", is_staff=True, email="ops@flame.example")


@pytest.fixture
def staff_client(staff):
    return api_client_for(staff)


@pytest.mark.parametrize(("method", "path", "body"), OPERATOR_ENDPOINTS)
def test_workspace_admins_and_agents_get_403(admin_client, agent_client, method, path, body):
    for client in (admin_client, agent_client):
        response = getattr(client, method)(path, body, format="json")

        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
    assert Notice.objects.count() == 0


@pytest.mark.parametrize(("method", "path", "body"), OPERATOR_ENDPOINTS)
def test_anonymous_callers_get_401(anonymous_client, method, path, body):
    response = getattr(anonymous_client, method)(path, body, format="json")

    assert response.status_code == 401


def test_superusers_are_staff():
    from accounts.models import User

    operator = User.objects.create_superuser("root@flame.example", "pw-123456789")

    assert (operator.is_staff, operator.is_superuser, operator.workspace_id) == (True, True, None)


# --- figures --------------------------------------------------------------------------------------


def _world(workspace, now):
    """Two days of activity over three workspaces (Pro, Pro, Free)."""
    free = WorkspaceFactory(name="Free one", plan="free")
    WorkspaceFactory(name="Pro two", plan="pro")
    today, yesterday = now, now - timedelta(days=1)
    conversation = ConversationFactory(workspace=workspace)
    for at, sender in ((today, "user"), (today, "agent"), (today, "user"), (yesterday, "user")):
        MessageFactory(conversation=conversation, sender=sender, created_at=at)
    AIUsageFactory(workspace=workspace, created_at=today, prompt_tokens=100, cost="0.010000")
    AIUsageFactory(workspace=free, created_at=today, prompt_tokens=50, cost="0.005000")
    WebhookEvent.objects.create(
        platform="whatsapp", body=b"{}", body_sha256="a", status="failed", received_at=today
    )
    BillingEvent.objects.create(
        provider="stripe", event_id="evt_f", kind="invoice.paid", payload={}, status="failed"
    )
    Subscription.objects.create(workspace=workspace, provider="stripe", plan="pro", status="active")
    Subscription.objects.create(
        workspace=free, provider="stripe", plan="starter", status="past_due", lapsed_at=now
    )


def test_the_platform_s_figures(staff_client, workspace, agent_user):
    now = datetime.now(tz=UTC)
    _world(workspace, now)
    agent_user.open_sockets, agent_user.last_seen_at = 2, timezone.now()
    agent_user.save()

    body = staff_client.get("/api/admin/metrics?days=2").json()

    today, yesterday = now.date().isoformat(), (now - timedelta(days=1)).date().isoformat()
    assert body["workspaces"] == {
        "total": 3,
        "by_plan": {"free": 1, "starter": 0, "pro": 2, "business": 0},
    }
    # The lapsed Starter subscription pays nothing.
    assert (body["mrr"], body["currency"]) == ("39.00", "USD")
    assert body["subscriptions"] == {"active": 1, "past_due": 1}
    assert body["messages_per_day"] == [
        {"day": yesterday, "inbound": 1, "outbound": 0},
        {"day": today, "inbound": 2, "outbound": 1},
    ]
    assert body["ai_per_day"][1] == {
        "day": today,
        "calls": 2,
        "prompt_tokens": 150,
        "completion_tokens": 40,
        "cost": "0.015000",
    }
    assert body["ai_per_day"][0]["calls"] == 0
    assert body["webhook_failures_per_day"][1] == {"day": today, "channels": 1, "payments": 1}
    assert body["open_sockets"] == 2


@pytest.mark.parametrize("days", ["0", "91", "x", "-1"])
def test_a_bad_period_is_a_400(staff_client, days):
    response = staff_client.get(f"/api/admin/metrics?days={days}")

    assert response.status_code == 400
    assert "days" in response.json()["error"]["details"]


def test_the_admin_metrics_page_is_for_staff(client, workspace, admin_user, staff):
    now = datetime.now(tz=UTC)
    _world(workspace, now)

    client.force_login(admin_user)
    refused = client.get("/admin/metrics/")
    client.force_login(staff)
    page = client.get("/admin/metrics/")
    index = client.get("/admin/")

    assert refused.status_code == 302
    assert "/admin/login/" in refused["Location"]
    html = page.content.decode()
    assert page.status_code == 200
    assert '<strong data-testid="metric-workspaces">3</strong>' in html
    assert '<strong data-testid="metric-mrr">39 USD</strong>' in html
    assert '<td data-testid="plan-count-pro">2</td>' in html
    assert 'href="/admin/metrics/"' in index.content.decode()


# --- notices ------------------------------------------------------------------------------------


def test_a_notice_reaches_every_workspace_s_admins(
    staff_client, admin_client, outsider_client, agent_client
):
    response = staff_client.post(
        "/api/admin/notifications",
        {"title": "Mantenimiento el sábado", "body": "De 2 a 3 a. m.", "level": "warning"},
        format="json",
    )

    assert response.status_code == 201
    notice = Notice.objects.get()
    assert (notice.workspace_id, notice.kind, notice.level) == (None, "announcement", "warning")
    for client in (admin_client, outsider_client):
        (shown,) = client.get("/api/notices").json()["results"]
        assert (shown["title"], shown["body"]) == ("Mantenimiento el sábado", "De 2 a 3 a. m.")
    assert agent_client.get("/api/notices").json()["results"] == []


def test_workspaces_created_after_a_notice_do_not_get_it(staff_client, staff):
    staff_client.post("/api/admin/notifications", {"title": "Old news"}, format="json")
    later = UserFactory(workspace=WorkspaceFactory(), role="admin")

    assert api_client_for(later).get("/api/notices").json()["results"] == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": ""},
        {"title": "x" * 201},
        {"title": "t", "level": "panic"},
        {"title": "t", "x": 1},
    ],
)
def test_a_bad_notice_is_a_400_and_sends_nothing(staff_client, body):
    response = staff_client.post("/api/admin/notifications", body, format="json")

    assert response.status_code == 400
    assert Notice.objects.count() == 0


def test_dismissing_a_notice(admin_client, admin_user, outsider_client, workspace):
    mine = Notice.objects.create(workspace=workspace, kind="payment_failed", title="Pago")

    refused = outsider_client.post(f"/api/notices/{mine.pk}/dismiss")
    dismissed = admin_client.post(f"/api/notices/{mine.pk}/dismiss")
    twice = admin_client.post(f"/api/notices/{mine.pk}/dismiss")

    assert refused.status_code == 404
    assert (dismissed.status_code, twice.status_code) == (204, 204)
    assert list(NoticeDismissal.objects.values_list("user_id", flat=True)) == [admin_user.pk]
    assert admin_client.get("/api/notices").json()["results"] == []


def test_notices_show_above_the_admins_pages_until_dismissed(client, admin_user, workspace):
    notice = Notice.objects.create(
        workspace=workspace, kind="payment_failed", level="warning", title="Pago fallido"
    )
    client.force_login(admin_user)

    shown = client.get("/settings/workspace/").content.decode()
    inbox = client.get("/inbox/").content.decode()
    back = client.post(f"/settings/billing/notices/{notice.pk}/dismiss/", {"next": "/dashboard/"})
    after = client.get("/settings/workspace/").content.decode()

    assert 'data-testid="notice-title">Pago fallido<' in shown
    assert "Pago fallido" not in inbox  # the inbox fills the screen: nothing above it
    assert (back.status_code, back["Location"]) == (302, "/dashboard/")
    assert "Pago fallido" not in after


def test_dismissing_goes_back_only_to_our_own_pages(client, admin_user, workspace):
    notice = Notice.objects.create(workspace=workspace, kind="payment_failed", title="Pago")
    client.force_login(admin_user)

    back = client.post(
        f"/settings/billing/notices/{notice.pk}/dismiss/", {"next": "https://evil.example/"}
    )

    assert back["Location"] == "/inbox/"


# --- logs -----------------------------------------------------------------------------------------


def test_the_newest_errors_redacted(staff_client):
    store = recent_errors_store(settings.REDIS_URL)
    store.clear()
    logger = logging.getLogger("flame.tests.operators")
    logger.warning("not an error")
    logger.error("Delivery failed with Bearer abc.def.ghi", extra={"api_key": "sk_live_123"})
    logger.error("Second failure")

    body = staff_client.get("/api/admin/logs?limit=5").json()

    assert [entry["message"] for entry in body["results"]] == [
        "Second failure",
        "Delivery failed with Bearer [redacted]",
    ]
    assert body["results"][1]["api_key"] == "[redacted]"
    assert body["results"][1]["logger"] == "flame.tests.operators"
    assert staff_client.get("/api/admin/logs?limit=1").json()["results"][0]["message"] == (
        "Second failure"
    )


@pytest.mark.parametrize("limit", ["0", "201", "many"])
def test_a_bad_log_limit_is_a_400(staff_client, limit):
    assert staff_client.get(f"/api/admin/logs?limit={limit}").status_code == 400


def test_mrr_of_no_subscription_is_zero(staff_client):
    assert staff_client.get("/api/admin/metrics").json()["mrr"] == str(Decimal("0.00"))
