from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.models import User, Workspace
from conversations.models import Conversation, Message

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_warns(capsys, client):
    call_command("seed_demo")
    counts = (
        User.objects.count(),
        Workspace.objects.count(),
        Conversation.objects.count(),
        Message.objects.count(),
    )
    call_command("seed_demo")

    # 13 messages: the resolved demo conversation also holds its satisfaction survey.
    assert counts == (2, 1, 5, 13)
    assert (
        User.objects.count(),
        Workspace.objects.count(),
        Conversation.objects.count(),
        Message.objects.count(),
    ) == counts
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
