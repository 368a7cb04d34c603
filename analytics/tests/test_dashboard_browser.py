"""The dashboard and the agents / workspace settings pages in a real Chromium against daphne."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD
from assistants.tests.factories import AIUsageFactory, AssistantFactory
from conversations.tests.factories import ConversationFactory, MessageFactory
from flame.testing import browser_sign_in
from satisfaction.tests.factories import RatingFactory

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = os.environ.get("FLAME_SCREENSHOTS", "")  # a folder: keep pictures of the pages


def _screenshot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def _conversation(workspace, *, ago: timedelta, status: str, platform: str, last: str, **fields):
    created = timezone.now() - ago
    conversation = ConversationFactory(
        workspace=workspace,
        status=status,
        platform=platform,
        created_at=created,
        last_message_sender=last,
        **fields,
    )
    MessageFactory(conversation=conversation, sender="user", created_at=created)
    if last != "user":
        MessageFactory(
            conversation=conversation, sender=last, created_at=created + timedelta(minutes=4)
        )
    return conversation


@pytest.fixture
def seeded(workspace, admin_user, agent_user):
    """Four conversations in the last 30 days (three in the last 7), one in the 30 before."""
    workspace.language = "en"  # the factories' workspaces speak Spanish
    workspace.save(update_fields=["language"])
    assistant = AssistantFactory(workspace=workspace, name="Recepción")
    hour = timedelta(hours=1)
    replied = _conversation(
        workspace,
        ago=hour,
        status="active",
        platform="whatsapp",
        last="agent",
        assigned_agent=agent_user,
        first_response_at=timezone.now() - hour + timedelta(minutes=4),
    )
    _conversation(workspace, ago=2 * 24 * hour, status="pending", platform="telegram", last="user")
    automated = _conversation(
        workspace,
        ago=3 * 24 * hour,
        status="resolved",
        platform="whatsapp",
        last="assistant",
        assigned_assistant=assistant,
        first_response_at=timezone.now() - 3 * 24 * hour + timedelta(minutes=1),
        resolved_at=timezone.now() - 3 * 24 * hour + timedelta(minutes=20),
    )
    _conversation(workspace, ago=12 * 24 * hour, status="resolved", platform="sandbox", last="user")
    _conversation(workspace, ago=45 * 24 * hour, status="archived", platform="sandbox", last="user")
    RatingFactory(conversation=replied, score=4)
    RatingFactory(conversation=automated, score=5)
    AIUsageFactory(
        workspace=workspace, assistant=assistant, prompt_tokens=900, completion_tokens=100
    )


def _wait_loaded(page, loads: int) -> None:
    page.wait_for_selector(f"[data-testid=dashboard][data-loads='{loads}'][data-state=ready]")


def _text(page, testid: str) -> str:
    return page.locator(f"[data-testid={testid}]").inner_text().strip()


def test_admin_reads_the_dashboard_and_changes_the_period(
    live_app, browser_context, admin_user, seeded
):
    # given
    page = browser_context.new_page()
    browser_sign_in(page, live_app, admin_user.email, DEFAULT_PASSWORD)

    # when: the default period, the last 30 days
    page.goto(f"{live_app}/dashboard/")
    _wait_loaded(page, 1)

    # then: the figures are the seeded ones
    assert _text(page, "kpi-total") == "4"
    # Waiting for an agent now: the pending one (the resolved and archived ones wait no more).
    assert _text(page, "kpi-unreplied") == "1"
    assert _text(page, "kpi-unreplied-note") == "Open now, whatever their age"
    assert _text(page, "kpi-total-delta") == "+300% vs. previous period (1)"
    assert [
        _text(page, f"kpi-status-{status}") for status in ("active", "pending", "resolved")
    ] == [
        "1",
        "1",
        "2",
    ]
    assert _text(page, "kpi-status-archived") == "0"
    assert _text(page, "kpi-satisfaction") == "4.5"
    assert _text(page, "csat-average") == "4.5"
    assert _text(page, "usage-tokens") == "1,000"
    assert page.locator("[data-testid=assistant-row]").count() == 1
    assert "Recepción" in _text(page, "assistant-row")
    for chart in ("conversations", "channels", "messages", "response-channel", "satisfaction"):
        canvas = page.locator(f"canvas[data-testid=chart-{chart}]")
        assert canvas.get_attribute("data-rendered") == "true", chart
        assert canvas.bounding_box()["height"] > 100, chart
    _screenshot(page, "dashboard")

    # when: the last 7 days, grouped by week
    page.click("[data-range='7']")
    _wait_loaded(page, 2)
    page.select_option("[data-testid=period-granularity]", "week")
    _wait_loaded(page, 3)

    # then: the figures and the export link follow the period
    assert _text(page, "kpi-total") == "3"
    today = page.locator("[data-testid=dashboard]").get_attribute("data-today")
    first = page.input_value("[data-testid=period-from]")
    assert page.input_value("[data-testid=period-to]") == today
    assert page.locator("[data-testid=dashboard]").get_attribute("data-period") == (
        f"{first}/{today}/week"
    )
    assert page.get_attribute("[data-testid=export-csv]", "href") == (
        f"/api/analytics/export.csv?from={first}&to={today}"
    )
    assert f"from={first}" in page.url
    assert "granularity=week" in page.url

    # and: a period with nothing in it says so instead of drawing empty charts
    page.fill("[data-testid=period-from]", "2020-01-01")
    page.fill("[data-testid=period-to]", "2020-01-31")
    page.click("[data-testid=period-apply]")
    _wait_loaded(page, 4)
    assert _text(page, "kpi-total") == "0"
    conversations_chart = page.locator("canvas[data-testid=chart-conversations]")
    assert conversations_chart.get_attribute("data-rendered") == "false"
    assert page.locator("[data-testid=csat-empty]").is_visible()


def test_agent_sees_their_own_figures(live_app, browser_context, agent_user, seeded):
    page = browser_context.new_page()
    browser_sign_in(page, live_app, agent_user.email, DEFAULT_PASSWORD)

    page.goto(f"{live_app}/dashboard/")
    _wait_loaded(page, 1)

    assert _text(page, "kpi-total") == "1"  # the one conversation assigned to them
    assert page.locator("text=Figures for the conversations assigned to you.").is_visible()
    _screenshot(page, "dashboard-agent")


def test_admin_invites_an_agent_and_switches_the_workspace_to_spanish(
    live_app, browser_context, admin_user, agent_user, workspace
):
    workspace.language = "en"
    workspace.save(update_fields=["language"])
    page = browser_context.new_page()
    browser_sign_in(page, live_app, admin_user.email, DEFAULT_PASSWORD)

    # when: an invitation without a password
    page.goto(f"{live_app}/settings/agents/")
    page.fill("#id_email", "nueva@a.example")
    page.fill("#id_name", "Nora Nueva")
    page.select_option("#id_role", "agent")
    page.click("[data-testid=invite-submit]")
    page.wait_for_selector("text=Invitation sent to nueva@a.example.")

    # then
    invited = User.objects.get(email="nueva@a.example")
    assert (invited.workspace_id, invited.role, invited.is_active) == (workspace.pk, "agent", True)
    row = page.locator("[data-testid=member-row][data-email='nueva@a.example']")
    assert row.locator("[data-testid=status]").inner_text() == "Invited"
    _screenshot(page, "agents")

    # when: the agent becomes an admin, then is deactivated after confirming
    agent_row = page.locator("[data-testid=member-row][data-email='agent@a.example']")
    agent_row.locator("[data-testid=role-select]").select_option("admin")
    agent_row.locator("[data-testid=role-save]").click()
    page.wait_for_selector("text=Aldo Agent is now Admin.")
    page.locator(
        "[data-testid=member-row][data-email='agent@a.example'] [data-testid=deactivate]"
    ).click()
    _screenshot(page, "deactivate")
    page.click("[data-testid=confirm-deactivate-submit]")
    page.wait_for_selector("text=Aldo Agent has been deactivated.")
    agent_user.refresh_from_db()
    assert (agent_user.role, agent_user.is_active) == ("admin", False)

    # when: the workspace speaks Spanish from now on
    page.click("a[href='/settings/workspace/']")
    page.select_option("#id_language", "es")
    page.select_option("#id_timezone", "Europe/Madrid")
    page.check("#id_csat_survey")
    page.click("[data-testid=workspace-save]")
    page.wait_for_selector(".flash-success")

    # then
    workspace.refresh_from_db()
    assert (workspace.language, workspace.timezone) == ("es", "Europe/Madrid")
    assert workspace.setting("csat_survey") is True
    assert page.locator("html").get_attribute("lang") == "es"
    _screenshot(page, "workspace")
