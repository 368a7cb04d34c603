"""Demo seeding (idempotent) and the admin pages of the assistants app."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts.tests.factories import UserFactory
from assistants import selectors
from assistants.models import Assistant, KnowledgeChunk, KnowledgeDocument, Schedule
from assistants.tests.factories import AIUsageFactory, AssistantFactory, ScheduleFactory
from integrations.models import Integration

pytestmark = pytest.mark.django_db


def _seed() -> None:
    call_command("seed_demo", stdout=io.StringIO())


def _snapshot() -> tuple:
    return (
        list(Assistant.objects.order_by("name").values_list("name", "type", "trained_at")),
        KnowledgeDocument.objects.count(),
        KnowledgeChunk.objects.count(),
        Schedule.objects.count(),
    )


def test_seed_demo_adds_two_assistants_once():
    _seed()
    first = _snapshot()
    _seed()

    assert _snapshot() == first
    names = [(name, kind) for name, kind, _ in first[0]]
    assert names == [("Fuera de horario", "auto"), ("Ventas IA", "ai")]
    assert first[1:] == (8, 8, 6)
    sales = Assistant.objects.get(name="Ventas IA")
    assert Integration.objects.get(platform="sandbox").default_assistant_id == sales.pk
    assert sales.needs_training is False
    spanish = selectors.knowledge_search(assistant=sales, query="¿Hacen envíos?", limit=1)
    english = selectors.knowledge_search(assistant=sales, query="payment methods", limit=1)
    assert (spanish[0].title, english[0].title) == ("Envíos", "Payment methods")


def test_seed_demo_keeps_a_default_assistant_chosen_by_the_admin():
    _seed()
    chosen = Assistant.objects.get(name="Fuera de horario")
    Integration.objects.filter(platform="sandbox").update(default_assistant=chosen)

    _seed()

    assert Integration.objects.get(platform="sandbox").default_assistant_id == chosen.pk


@pytest.fixture
def operator_client(client):
    operator = UserFactory(workspace=None, is_staff=True, is_superuser=True, role="admin")
    client.force_login(operator)
    return client


def test_admin_shows_assistants_with_inline_schedules_and_knowledge(operator_client, workspace):
    assistant = AssistantFactory(workspace=workspace, name="Recepción")
    ScheduleFactory(assistant=assistant)

    listing = operator_client.get("/admin/assistants/assistant/")
    detail = operator_client.get(f"/admin/assistants/assistant/{assistant.pk}/change/")

    assert listing.status_code == 200
    assert "Recepción" in listing.content.decode()
    assert detail.status_code == 200
    content = detail.content.decode()
    assert 'name="schedules-0-start_time"' in content
    assert 'name="knowledge-TOTAL_FORMS"' in content


def test_admin_train_action(operator_client, workspace, django_capture_on_commit_callbacks):
    assistant = AssistantFactory(workspace=workspace)

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(
            "/admin/assistants/assistant/",
            {"action": "train", "_selected_action": [str(assistant.pk)]},
        )

    assert response.status_code == 302
    assistant.refresh_from_db()
    assert (assistant.status, assistant.trained_at is not None) == ("active", True)


def test_admin_lists_usage_and_reply_jobs(operator_client, workspace):
    AIUsageFactory(workspace=workspace)

    assert operator_client.get("/admin/assistants/aiusage/").status_code == 200
    assert operator_client.get("/admin/assistants/autoreplyjob/").status_code == 200
