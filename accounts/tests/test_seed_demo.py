from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.models import User, Workspace
from analytics.models import SatisfactionRating
from conversations.models import Conversation, Message

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
