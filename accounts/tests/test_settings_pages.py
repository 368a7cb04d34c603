"""The agents and workspace settings pages through the Django test client (session sign-in)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import translation

from accounts import services
from accounts.models import User, Workspace
from accounts.tests.factories import UserFactory
from flame.exceptions import InvalidInput, PermissionDeniedError

pytestmark = pytest.mark.django_db

AGENTS = "/settings/agents/"
WORKSPACE = "/settings/workspace/"
STRONG_PASSWORD = "a-long-enough-passphrase-42"


@pytest.fixture
def admin_page(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def agent_page(client, agent_user):
    client.force_login(agent_user)
    return client


@pytest.fixture
def outsider_page(client, outsider):
    client.force_login(outsider)
    return client


def _role(user) -> str:
    user.refresh_from_db()
    return user.role


def _active(user) -> bool:
    user.refresh_from_db()
    return user.is_active


def _snapshot(workspace: Workspace) -> tuple:
    workspace.refresh_from_db()
    return (workspace.name, workspace.timezone, workspace.language, workspace.settings)


def _workspace_form(**overrides) -> dict:
    data = {
        "name": "Pastelería Luna",
        "timezone": "Europe/Madrid",
        "language": "en",
        "csat_survey": "on",
        "agents_see_unassigned": "on",
    }  # ai_analysis left unchecked: the browser sends nothing for it
    return {**data, **overrides}


# --- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [AGENTS, WORKSPACE])
def test_anonymous_is_sent_to_sign_in(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


@pytest.mark.parametrize("path", [AGENTS, WORKSPACE])
def test_agents_are_refused_the_settings_pages(agent_page, path):
    assert agent_page.get(path).status_code == 403


def test_an_agent_cannot_invite_or_change_the_workspace(agent_page, workspace, other_agent):
    # given
    before = _snapshot(workspace)
    members = User.objects.count()

    # when
    invite = agent_page.post(AGENTS, {"email": "new@a.example", "name": "New", "role": "admin"})
    role = agent_page.post(f"{AGENTS}{other_agent.pk}/role/", {"role": "admin"})
    deactivate = agent_page.post(f"{AGENTS}{other_agent.pk}/deactivate/")
    save = agent_page.post(WORKSPACE, _workspace_form())

    # then
    assert [invite.status_code, role.status_code, deactivate.status_code] == [403, 403, 403]
    assert save.status_code == 403
    assert User.objects.count() == members
    assert _role(other_agent) == "agent"
    assert _active(other_agent) is True
    assert _snapshot(workspace) == before


# --- agents page ------------------------------------------------------------------------------


def test_admin_sees_the_members_of_their_workspace_only(admin_page, agent_user, outsider):
    response = admin_page.get(AGENTS)

    assert response.status_code == 200
    assert [member.email for member in response.context["members"]] == [
        "agent@a.example",
        "admin@a.example",
    ]  # active first, then by name: "Aldo Agent", "Ana Admin"
    content = response.content.decode()
    assert "agent@a.example" in content
    assert outsider.email not in content
    assert response.context["nav"] == "agents"


def test_invite_without_password_creates_an_agent_and_sends_the_invitation(
    admin_page, admin_user, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_page.post(
            AGENTS, {"email": "New.Person@A.example", "name": "New Person", "role": "agent"}
        )

    # then
    assert response.status_code == 302
    assert response["Location"] == AGENTS
    member = User.objects.get(email="new.person@a.example")
    assert (member.name, member.role, member.workspace_id) == (
        "New Person",
        "agent",
        admin_user.workspace_id,
    )
    assert (member.has_usable_password(), member.is_pending) == (False, True)
    assert [message.to for message in mail.outbox] == [["new.person@a.example"]]
    page = admin_page.get(AGENTS).content.decode()
    # The admin chose no language, so the page speaks their workspace's Spanish.
    assert "Invitación enviada a new.person@a.example." in page


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not-an-address", "name": "X", "role": "agent"}, "email"),
        ({"email": "x@a.example", "name": "", "role": "agent"}, "name"),
        ({"email": "x@a.example", "name": "X", "role": "owner"}, "role"),
    ],
)
def test_invalid_invitation_is_a_400_and_creates_nobody(admin_page, data, field):
    # given
    members = User.objects.count()

    # when
    response = admin_page.post(AGENTS, data)

    # then
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert User.objects.count() == members


def test_inviting_a_member_again_is_a_conflict(admin_page, agent_user):
    members = User.objects.count()

    response = admin_page.post(AGENTS, {"email": "AGENT@a.example", "name": "X"})

    assert response.status_code == 409
    # In the page's language (the workspace's Spanish), not the service's English.
    message = "Este espacio de trabajo ya tiene un miembro con este correo electrónico."
    with translation.override("es"):
        assert response.context["form"].errors["email"] == [message]
    assert message in response.content.decode()
    assert "already has" not in response.content.decode()
    assert User.objects.count() == members


def test_inviting_an_address_of_another_workspace_looks_like_any_invitation(
    admin_page, outsider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_page.post(AGENTS, {"email": "OUTSIDER@b.example", "name": "X"})

    assert response.status_code == 302
    assert _active(outsider) is True
    page = admin_page.get(AGENTS).content.decode()
    assert "Invitación enviada a outsider@b.example." in page


def test_admin_changes_a_member_role(admin_page, agent_user):
    response = admin_page.post(f"{AGENTS}{agent_user.pk}/role/", {"role": "admin"})

    assert response.status_code == 302
    assert response["Location"] == AGENTS
    assert _role(agent_user) == "admin"


def test_an_unknown_role_is_a_400(admin_page, agent_user):
    response = admin_page.post(f"{AGENTS}{agent_user.pk}/role/", {"role": "owner"})

    assert response.status_code == 400
    assert _role(agent_user) == "agent"


def test_the_last_admin_cannot_be_demoted(admin_page, admin_user, agent_user):
    response = admin_page.post(f"{AGENTS}{admin_user.pk}/role/", {"role": "agent"})

    assert response.status_code == 409
    # The admin chose no language, so the page speaks their workspace's Spanish.
    last_admin = "Un espacio de trabajo necesita al menos un administrador activo."
    assert response.context["error"] == last_admin
    assert last_admin in response.content.decode()
    assert _role(admin_user) == "admin"


def test_an_admin_may_step_down_when_another_admin_remains(admin_page, admin_user, workspace):
    UserFactory(workspace=workspace, role="admin")

    response = admin_page.post(f"{AGENTS}{admin_user.pk}/role/", {"role": "agent"})

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"  # the agents page is no longer theirs
    assert _role(admin_user) == "agent"


def test_deactivation_asks_for_confirmation_first(admin_page, agent_user):
    response = admin_page.get(f"{AGENTS}{agent_user.pk}/deactivate/")

    assert response.status_code == 200
    assert "¿Desactivar a Aldo Agent?" in response.content.decode()  # the workspace's Spanish
    assert _active(agent_user) is True


def test_admin_deactivates_and_reactivates_a_member(admin_page, agent_user):
    deactivated = admin_page.post(f"{AGENTS}{agent_user.pk}/deactivate/")
    assert deactivated.status_code == 302
    assert _active(agent_user) is False

    reactivated = admin_page.post(f"{AGENTS}{agent_user.pk}/reactivate/")
    assert reactivated.status_code == 302
    assert _active(agent_user) is True


def test_the_last_admin_cannot_be_deactivated(admin_page, admin_user):
    response = admin_page.post(f"{AGENTS}{admin_user.pk}/deactivate/")

    assert response.status_code == 409
    assert response.context["error"] == (
        "Un espacio de trabajo necesita al menos un administrador activo."
    )
    assert _active(admin_user) is True


def test_an_admin_cannot_deactivate_themselves(admin_page, admin_user, workspace):
    UserFactory(workspace=workspace, role="admin")

    response = admin_page.post(f"{AGENTS}{admin_user.pk}/deactivate/")

    assert response.status_code == 409
    assert response.context["error"] == "No puedes desactivar tu propia cuenta."
    assert _active(admin_user) is True


@pytest.mark.parametrize(
    ("method", "action", "data"),
    [
        ("get", "deactivate", {}),
        ("post", "deactivate", {}),
        ("post", "reactivate", {}),
        ("post", "role", {"role": "admin"}),
    ],
)
def test_another_workspace_member_is_not_found(outsider_page, agent_user, method, action, data):
    response = getattr(outsider_page, method)(f"{AGENTS}{agent_user.pk}/{action}/", data)

    assert response.status_code == 404
    agent_user.refresh_from_db()
    assert (agent_user.role, agent_user.is_active) == ("agent", True)


def test_settings_actions_need_post(admin_page, agent_user):
    assert admin_page.get(f"{AGENTS}{agent_user.pk}/role/").status_code == 405
    assert admin_page.get(f"{AGENTS}{agent_user.pk}/reactivate/").status_code == 405


# --- workspace page ---------------------------------------------------------------------------


def test_workspace_page_shows_the_current_values(admin_page, workspace):
    workspace.settings = {"agents_see_unassigned": True}
    workspace.save()

    response = admin_page.get(WORKSPACE)

    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial == {
        "name": "Workspace A",
        "timezone": "America/Mexico_City",
        "language": "es",
        "csat_survey": False,
        "agents_see_unassigned": True,
        "ai_analysis": True,  # on unless switched off
    }
    assert '<option value="America/Mexico_City" selected>' in response.content.decode()


def test_admin_saves_the_workspace(admin_page, workspace):
    # given: a key some other code keeps in the same JSON
    workspace.settings = {"ai_analysis": True, "kept_by_someone_else": 3}
    workspace.save()

    # when
    response = admin_page.post(WORKSPACE, _workspace_form())

    # then
    assert response.status_code == 302
    assert response["Location"] == WORKSPACE
    assert _snapshot(workspace) == (
        "Pastelería Luna",
        "Europe/Madrid",
        "en",
        {
            "ai_analysis": False,
            "kept_by_someone_else": 3,
            "csat_survey": True,
            "agents_see_unassigned": True,
        },
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"language": "fr"}, "language"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
    ],
)
def test_bad_workspace_input_is_a_400_and_changes_nothing(admin_page, workspace, overrides, field):
    before = _snapshot(workspace)

    response = admin_page.post(WORKSPACE, _workspace_form(**overrides))

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert _snapshot(workspace) == before


def test_saving_in_spanish_answers_in_spanish(admin_page, workspace):
    response = admin_page.post(WORKSPACE, _workspace_form(language="es"), follow=True)

    assert response.status_code == 200
    assert response.wsgi_request.LANGUAGE_CODE == "es"
    assert '<html lang="es">' in response.content.decode()


# --- workspace_update service -----------------------------------------------------------------


def test_service_changes_only_what_it_is_given(admin_user, workspace):
    services.workspace_update(by=admin_user, workspace=workspace, settings={"csat_survey": True})

    assert _snapshot(workspace) == (
        "Workspace A",
        "America/Mexico_City",
        "es",
        {"csat_survey": True},
    )


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"language": "de"}, "language"),
        ({"name": ""}, "name"),
        ({"settings": {"plan": "business"}}, "settings"),
        ({"settings": {"csat_survey": "yes"}}, "settings"),
    ],
)
def test_service_refuses_bad_values(admin_user, workspace, arguments, field):
    before = _snapshot(workspace)

    with pytest.raises(InvalidInput) as refused:
        services.workspace_update(by=admin_user, workspace=workspace, **arguments)

    assert list(refused.value.details) == [field]
    assert _snapshot(workspace) == before


@pytest.mark.parametrize("actor", ["agent_user", "outsider"])
def test_service_is_for_the_workspace_admins(request, workspace, actor):
    before = _snapshot(workspace)

    with pytest.raises(PermissionDeniedError):
        services.workspace_update(
            by=request.getfixturevalue(actor), workspace=workspace, name="Taken over"
        )

    assert _snapshot(workspace) == before
