from __future__ import annotations

import pytest

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client, db):
    operator = UserFactory(
        workspace=None, is_staff=True, is_superuser=True, email="op@flame.example"
    )
    client.force_login(operator)
    return client


def test_user_and_workspace_admin_pages_render(operator_client, admin_user, agent_user, outsider):
    users = operator_client.get("/admin/accounts/user/?q=a.example&role__exact=agent")
    workspaces = operator_client.get("/admin/accounts/workspace/?q=Workspace")
    detail = operator_client.get(f"/admin/accounts/workspace/{admin_user.workspace_id}/change/")
    add = operator_client.get("/admin/accounts/user/add/")

    assert users.status_code == 200
    assert b"agent@a.example" in users.content
    assert b"admin@a.example" not in users.content  # filtered out by role
    assert workspaces.status_code == 200
    assert b"Workspace A" in workspaces.content
    assert detail.status_code == 200
    assert add.status_code == 200


def test_workspace_list_shows_active_member_count(operator_client, admin_user, agent_user):
    agent_user.is_active = False
    agent_user.save()

    response = operator_client.get("/admin/accounts/workspace/")

    assert response.context["cl"].result_list[0]._member_count == 1


def test_deactivate_action(operator_client, agent_user, other_agent):
    response = operator_client.post(
        "/admin/accounts/user/",
        {"action": "deactivate_users", "_selected_action": [str(agent_user.pk)]},
    )

    assert response.status_code == 302
    agent_user.refresh_from_db()
    other_agent.refresh_from_db()
    assert agent_user.is_active is False
    assert other_agent.is_active is True


def test_admin_creates_user_with_lowercased_email(operator_client, workspace):
    response = operator_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "New.Person@A.example",
            "name": "New",
            "workspace": str(workspace.pk),
            "role": "agent",
            "password1": "quiet-Lake-2024",
            "password2": "quiet-Lake-2024",
            "usable_password": "true",
        },
    )

    assert response.status_code == 302, response.content[:2000]
    assert User.objects.get(email="new.person@a.example").workspace == workspace


def test_operators_read_the_business_calendar_without_a_feeds_full_address(
    operator_client, workspace
):
    from datetime import date

    from accounts.models import HolidayFeed
    from accounts.tests.factories import DateOverrideFactory

    feed = HolidayFeed.objects.create(
        workspace=workspace, name="Festivos MX", url="https://cal.example/private/s3cr3t/basic.ics"
    )
    DateOverrideFactory(workspace=workspace, date=date(2031, 12, 25), name="Navidad")

    feeds = operator_client.get("/admin/accounts/holidayfeed/")
    detail = operator_client.get(f"/admin/accounts/holidayfeed/{feed.pk}/change/")
    dates = operator_client.get("/admin/accounts/dateoverride/")

    assert [feeds.status_code, detail.status_code, dates.status_code] == [200, 200, 200]
    assert b"cal.example" in feeds.content
    assert b"s3cr3t" not in feeds.content + detail.content
    assert b"Navidad" in dates.content
    assert operator_client.get("/admin/accounts/dateoverride/add/").status_code == 403
