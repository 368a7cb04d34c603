from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.models import User, Workspace
from accounts.services import workspace_update
from assistants.models import Assistant, KnowledgeDocument, Schedule
from assistants.services import assistant_update
from conversations.models import Conversation, Message
from integrations.models import Integration
from integrations.services import integration_update
from satisfaction.models import SatisfactionRating

pytestmark = pytest.mark.django_db


def _counts() -> tuple:
    live = Conversation.objects.exclude(contact__metadata__has_key="demo_history")
    return (
        User.objects.count(),
        Workspace.objects.count(),
        live.count(),
        Message.objects.filter(conversation__in=live).count(),
        Conversation.objects.count(),
        Message.objects.count(),
        SatisfactionRating.objects.count(),
    )


def test_seed_demo_is_idempotent_and_warns(capsys, client):
    call_command("seed_demo")
    counts = _counts()
    call_command("seed_demo")

    # 5 live threads with 13 messages (the resolved one also holds its satisfaction survey),
    # plus four weeks of resolved history (2-6 a day: 2 messages each, most of them rated).
    assert counts[:4] == (2, 1, 5, 13)
    history = counts[4] - counts[2]
    assert 28 * 2 <= history <= 28 * 6
    assert counts[5] - counts[3] == 2 * history
    assert 0 < counts[6] < history
    assert _counts() == counts
    languages = " ".join(Message.objects.values_list("content", flat=True))
    assert "¿Tienen envío" in languages
    assert "order #4821" in languages
    admin = User.objects.get(email="admin@flame-assistant.com")
    assert admin.check_password("admin123")
    assert admin.role == "admin"
    assert User.objects.get(email="agent@flame-assistant.com").role == "agent"
    assert "WARNING" in capsys.readouterr().out
    response = client.post(
        "/api/auth/login",
        {"email": "admin@flame-assistant.com", "password": "admin123"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert client.login(username="admin@flame-assistant.com", password="admin123")
    assert client.get("/admin/").status_code == 200


def test_nothing_else_creates_the_demo_admin(admin_user):
    assert not User.objects.filter(email="admin@flame-assistant.com").exists()


def _rows() -> dict[str, int]:
    return {
        "workspaces": Workspace.objects.count(),
        "users": User.objects.count(),
        "assistants": Assistant.objects.count(),
        "schedules": Schedule.objects.count(),
        "knowledge": KnowledgeDocument.objects.count(),
        "channels": Integration.objects.count(),
        "conversations": Conversation.objects.count(),
        "messages": Message.objects.count(),
    }


def test_seeding_again_after_admins_renamed_the_demo_objects_adds_nothing(capsys):
    call_command("seed_demo")
    workspace = Workspace.objects.get()
    admin = User.objects.get(email="admin@flame-assistant.com")
    # What an admin can do from the Workspace, Assistants and Channels pages.
    workspace_update(by=admin, workspace=workspace, name="Pastelería Ana", settings={})
    for number, assistant in enumerate(Assistant.objects.all()):
        assistant_update(assistant=assistant, data={"name": f"Asistente {number}"})
    integration_update(integration=Integration.objects.get(), name="Canal de pruebas")
    rows = _rows()
    capsys.readouterr()

    call_command("seed_demo")

    assert _rows() == rows
    assert Workspace.objects.get().name == "Pastelería Ana"
    assert sorted(Assistant.objects.values_list("name", flat=True)) == [
        "Asistente 0",
        "Asistente 1",
    ]
    assert Integration.objects.get().name == "Canal de pruebas"
    assert capsys.readouterr().out.startswith("Demo workspace ready: Pastelería Ana\n")


def test_a_workspace_seeded_before_stable_ids_keeps_its_assistants():
    # As the seed left it before assistants had stable ids: found by their names.
    call_command("seed_demo")
    workspace = Workspace.objects.get()
    for assistant in Assistant.objects.all():
        twin = Assistant.objects.create(
            workspace=workspace, name=assistant.name, type=assistant.type
        )
        Schedule.objects.filter(assistant=assistant).update(assistant=twin)
        KnowledgeDocument.objects.filter(assistant=assistant).update(assistant=twin)
        Integration.objects.filter(default_assistant=assistant).update(default_assistant=twin)
        assistant.delete()
    rows = _rows()

    call_command("seed_demo")

    assert _rows() == rows


def test_seed_prints_the_demo_accounts_after_everything_else(capsys):
    call_command("seed_demo")

    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "Demo workspace ready: FLAME Demo",
        "  admin: admin@flame-assistant.com / admin123",
        "  agent: agent@flame-assistant.com / agent123",
        "WARNING: these demo passwords are public. Change them (or delete the demo workspace) "
        "before exposing this instance.",
    ]
