"""Plans as data (accounts.plans) and their limits where things are made: channels, seats,
report history, API access; the daily AI quota reads the same definition."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import plans
from accounts.models import User
from accounts.tests.factories import UserFactory
from assistants import conf
from assistants.schedule import workspace_zone
from integrations.models import Integration
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

WHATSAPP = {
    "access_token": "EAAG-token",
    "phone_number_id": "113948276501234",
    "app_secret": "app-secret",
    "verify_token": "verify-me",
}


def _on(workspace, plan: str):
    workspace.plan = plan
    workspace.save()
    return workspace


@pytest.fixture
def session_client(admin_user) -> APIClient:
    """The admin in the product's pages (session), which every plan keeps."""
    client = APIClient()
    client.force_login(admin_user)
    return client


# --- the definition -------------------------------------------------------------------------------


def test_the_plans_on_sale(anonymous_client):
    body = anonymous_client.get("/api/payments/plans").json()

    assert [
        (plan["code"], plan["name"], plan["monthly_price"], plan["currency"])
        for plan in body["results"]
    ] == [
        ("free", "Free", "0.00", "USD"),
        ("starter", "Starter", "19.00", "USD"),
        ("pro", "Pro", "39.00", "USD"),
        ("business", "Business", "79.00", "USD"),
    ]
    assert [(plan["quotas"], plan["limits"]) for plan in body["results"]] == [
        (
            {"requests": 100, "tokens": 50_000},
            {"channels": 2, "agents": 2, "analytics_days": 30, "api_access": False},
        ),
        (
            {"requests": 1_000, "tokens": 500_000},
            {"channels": 5, "agents": 5, "analytics_days": 90, "api_access": True},
        ),
        (
            {"requests": 10_000, "tokens": 5_000_000},
            {"channels": 15, "agents": 20, "analytics_days": None, "api_access": True},
        ),
        (None, {"channels": None, "agents": None, "analytics_days": None, "api_access": True}),
    ]


def test_the_ai_quota_is_the_plan_s(settings):
    assert conf.plan_limits("starter") == {"requests": 1_000, "tokens": 500_000}
    assert conf.plan_limits("business") is None
    assert conf.plan_limits("retired-plan") == {"requests": 100, "tokens": 50_000}
    settings.AI_PLAN_LIMITS = {"pro": {"requests": 1, "tokens": 10}}
    assert plans.get("pro").ai_quota() == {"requests": 1, "tokens": 10}
    assert conf.plan_limits("pro") == {"requests": 1, "tokens": 10}


# --- channels ------------------------------------------------------------------------------------


def test_a_channel_over_the_plan_is_refused_naming_the_plan_to_upgrade_to(admin_client, workspace):
    _on(workspace, "starter")
    for n in range(5):
        IntegrationFactory(workspace=workspace, platform="telegram", external_account_id=f"b{n}")
    IntegrationFactory(workspace=workspace, platform="sandbox")  # the simulator is free

    response = admin_client.post(
        "/api/integrations",
        {"platform": "whatsapp", "name": "Ventas", "credentials": WHATSAPP},
        format="json",
    )

    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "plan_limit_reached",
        "message": "The Starter plan includes 5 channels — upgrade to Pro to connect more.",
        "details": {"limit": "channels", "allowed": 5, "plan": "starter", "upgrade_to": "pro"},
    }
    assert Integration.objects.filter(workspace=workspace).count() == 6


def test_the_simulator_is_not_counted(admin_client, workspace):
    _on(workspace, "starter")
    for n in range(5):
        IntegrationFactory(workspace=workspace, platform="telegram", external_account_id=f"b{n}")

    response = admin_client.post(
        "/api/integrations", {"platform": "sandbox", "name": "Pruebas"}, format="json"
    )

    assert response.status_code == 201


def test_the_last_channel_of_the_plan_can_still_be_added(admin_client, workspace):
    _on(workspace, "starter")
    for n in range(4):
        IntegrationFactory(workspace=workspace, platform="telegram", external_account_id=f"b{n}")

    response = admin_client.post(
        "/api/integrations",
        {"platform": "whatsapp", "name": "Ventas", "credentials": WHATSAPP},
        format="json",
    )

    assert response.status_code == 201


def test_bad_input_is_a_400_before_the_plan_is_looked_at(admin_client, workspace):
    _on(workspace, "starter")
    for n in range(5):
        IntegrationFactory(workspace=workspace, platform="telegram", external_account_id=f"b{n}")

    response = admin_client.post(
        "/api/integrations", {"platform": "whatsapp", "name": "x", "credentials": {}}, format="json"
    )

    assert response.status_code == 400


# --- seats ----------------------------------------------------------------------------------------


def test_an_invitation_over_the_plan_s_seats_is_refused(admin_client, workspace, admin_user):
    _on(workspace, "starter")
    for n in range(4):
        UserFactory(workspace=workspace, role="agent", email=f"agent{n}@a.example")

    response = admin_client.post(
        "/api/users", {"email": "new@a.example", "name": "Nueva", "role": "agent"}, format="json"
    )

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["message"] == (
        "The Starter plan includes 5 members — upgrade to Pro to invite more."
    )
    assert error["details"]["upgrade_to"] == "pro"
    assert User.objects.filter(workspace=workspace).count() == 5


def test_deactivated_members_free_their_seat_and_cannot_come_back_over_the_limit(
    admin_client, workspace
):
    _on(workspace, "starter")
    former = UserFactory(workspace=workspace, role="agent", is_active=False, email="f@a.example")
    for n in range(4):
        UserFactory(workspace=workspace, role="agent", email=f"agent{n}@a.example")

    response = admin_client.patch(f"/api/users/{former.pk}", {"is_active": True}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["details"]["limit"] == "agents"
    former.refresh_from_db()
    assert former.is_active is False


# --- report history -------------------------------------------------------------------------------


def test_reports_reach_back_as_far_as_the_plan_keeps(admin_client, workspace):
    _on(workspace, "starter")
    today = timezone.localdate(timezone=workspace_zone(workspace.timezone))
    oldest = today - timedelta(days=89)

    allowed = admin_client.get(f"/api/analytics/dashboard?from={oldest}&to={today}")
    refused = admin_client.get(
        f"/api/analytics/dashboard?from={oldest - timedelta(days=1)}&to={today}"
    )

    assert allowed.status_code == 200
    assert refused.status_code == 403
    assert refused.json()["error"]["details"] == {
        "limit": "analytics_days",
        "allowed": 90,
        "plan": "starter",
        "upgrade_to": "pro",
    }


def test_the_free_plan_s_export_stops_at_30_days(session_client, workspace):
    _on(workspace, "free")
    today = timezone.localdate(timezone=workspace_zone(workspace.timezone))

    response = session_client.get(
        f"/api/analytics/export.csv?from={today - timedelta(days=30)}&to={today}"
    )

    assert response.status_code == 403
    assert response.json()["error"]["details"]["upgrade_to"] == "starter"


def test_the_dashboard_page_starts_within_the_plan_s_history(session_client, workspace):
    _on(workspace, "free")
    today = timezone.localdate(timezone=workspace_zone(workspace.timezone))

    page = session_client.get(f"/dashboard/?from={today - timedelta(days=200)}&to={today}")

    html = page.content.decode()
    earliest = today - timedelta(days=29)
    assert page.status_code == 200
    assert f'value="{earliest}" min="{earliest}"' in html


def test_pro_reports_keep_the_whole_history(admin_client, workspace):
    response = admin_client.get("/api/analytics/dashboard?from=2001-01-01&to=2001-12-31")

    assert response.status_code == 200


# --- API access -----------------------------------------------------------------------------------


def test_the_free_plan_refuses_bearer_tokens_naming_the_plan_with_api_access(
    admin_client, workspace
):
    _on(workspace, "free")

    response = admin_client.get("/api/conversations")

    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "plan_limit_reached",
        "message": (
            "The Free plan does not include API access — upgrade to Starter to call the API "
            "with a token."
        ),
        "details": {
            "limit": "api_access",
            "allowed": False,
            "plan": "free",
            "upgrade_to": "starter",
        },
    }


def test_on_the_free_plan_a_token_still_reaches_its_session_and_the_plans(admin_client, workspace):
    _on(workspace, "free")

    assert admin_client.get("/api/auth/me").status_code == 200
    assert admin_client.get("/api/payments/plans").status_code == 200
    assert admin_client.get("/api/payments/subscription").status_code == 200


def test_the_product_s_pages_keep_working_on_the_free_plan(session_client, workspace):
    _on(workspace, "free")

    assert session_client.get("/api/conversations").status_code == 200
    assert session_client.get("/inbox/").status_code == 200


def test_starter_includes_api_access(admin_client, workspace):
    _on(workspace, "starter")

    assert admin_client.get("/api/conversations").status_code == 200
