"""/api/assistants/:id/schedules, /knowledge and /train."""

from __future__ import annotations

from datetime import time

import pytest

from assistants.models import Assistant, KnowledgeChunk, KnowledgeDocument, Schedule
from assistants.tests.factories import (
    AIAssistantFactory,
    AssistantFactory,
    KnowledgeDocumentFactory,
    ScheduleFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def assistant(workspace):
    return AIAssistantFactory(workspace=workspace)


# --- schedules ---------------------------------------------------------------------------------


def test_admin_adds_schedules_including_past_midnight(admin_client, assistant):
    url = f"/api/assistants/{assistant.pk}/schedules"

    day = admin_client.post(
        url, {"day_of_week": 1, "start_time": "09:00", "end_time": "13:00"}, format="json"
    )
    night = admin_client.post(
        url, {"day_of_week": 5, "start_time": "22:00", "end_time": "02:00"}, format="json"
    )

    assert (day.status_code, night.status_code) == (201, 201)
    assert night.json()["crosses_midnight"] is True
    assert night.json()["enabled"] is True
    listed = admin_client.get(url).json()
    assert [(s["day_of_week"], s["start_time"], s["end_time"]) for s in listed] == [
        (1, "09:00", "13:00"),
        (5, "22:00", "02:00"),
    ]


def test_several_intervals_on_the_same_day(admin_client, assistant):
    url = f"/api/assistants/{assistant.pk}/schedules/"
    for start, end in (("09:00", "13:00"), ("15:00", "19:00")):
        body = {"day_of_week": 3, "start_time": start, "end_time": end}
        assert admin_client.post(url, body, format="json").status_code == 201

    assert Schedule.objects.filter(assistant=assistant, day_of_week=3).count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"day_of_week": 7, "start_time": "09:00", "end_time": "10:00"}, "day_of_week"),
        ({"day_of_week": -1, "start_time": "09:00", "end_time": "10:00"}, "day_of_week"),
        ({"day_of_week": 1, "start_time": "25:00", "end_time": "10:00"}, "start_time"),
        ({"day_of_week": 1, "start_time": "09:00", "end_time": "9h"}, "end_time"),
        ({"day_of_week": 1, "start_time": "09:00"}, "end_time"),
        ({"start_time": "09:00", "end_time": "10:00"}, "day_of_week"),
    ],
)
def test_invalid_schedules_are_400(admin_client, assistant, body, field):
    response = admin_client.post(f"/api/assistants/{assistant.pk}/schedules", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert Schedule.objects.count() == 0


def test_admin_updates_and_deletes_a_schedule(admin_client, assistant):
    schedule = ScheduleFactory(assistant=assistant)
    url = f"/api/assistants/{assistant.pk}/schedules/{schedule.pk}"

    put = admin_client.put(
        url,
        {"day_of_week": 6, "start_time": "10:00", "end_time": "14:00", "enabled": False},
        format="json",
    )
    assert put.status_code == 200, put.content
    schedule.refresh_from_db()
    assert (schedule.day_of_week, schedule.start_time, schedule.enabled) == (6, time(10), False)

    assert admin_client.delete(url).status_code == 204
    assert Schedule.objects.count() == 0


def test_schedule_of_another_assistant_is_404(admin_client, assistant, workspace):
    other = ScheduleFactory(assistant=AssistantFactory(workspace=workspace))

    response = admin_client.delete(f"/api/assistants/{assistant.pk}/schedules/{other.pk}")

    assert response.status_code == 404
    assert Schedule.objects.filter(pk=other.pk).exists()


def test_agent_reads_schedules_but_cannot_write(agent_client, assistant):
    schedule = ScheduleFactory(assistant=assistant)
    url = f"/api/assistants/{assistant.pk}/schedules"
    body = {"day_of_week": 2, "start_time": "09:00", "end_time": "10:00"}

    assert [s["id"] for s in agent_client.get(url).json()] == [str(schedule.pk)]
    assert agent_client.post(url, body, format="json").status_code == 403
    assert agent_client.put(f"{url}/{schedule.pk}", body, format="json").status_code == 403
    assert agent_client.delete(f"{url}/{schedule.pk}").status_code == 403
    schedule.refresh_from_db()
    assert (Schedule.objects.count(), schedule.day_of_week) == (1, 1)


def test_outsider_gets_404_on_schedules(outsider_client, assistant):
    schedule = ScheduleFactory(assistant=assistant)
    url = f"/api/assistants/{assistant.pk}/schedules"
    body = {"day_of_week": 2, "start_time": "09:00", "end_time": "10:00"}

    assert outsider_client.get(url).status_code == 404
    assert outsider_client.post(url, body, format="json").status_code == 404
    assert outsider_client.put(f"{url}/{schedule.pk}", body, format="json").status_code == 404
    assert outsider_client.delete(f"{url}/{schedule.pk}").status_code == 404
    schedule.refresh_from_db()
    assert (Schedule.objects.count(), schedule.day_of_week) == (1, 1)


# --- knowledge ---------------------------------------------------------------------------------


def test_admin_manages_knowledge(admin_client, assistant):
    url = f"/api/assistants/{assistant.pk}/knowledge"

    created = admin_client.post(
        url, {"title": "Envíos", "content": "Enviamos a todo México."}, format="json"
    )
    assert created.status_code == 201, created.content
    document_url = f"{url}/{created.json()['id']}"
    patched = admin_client.patch(document_url, {"content": "Enviamos en 48 h."}, format="json")
    listed = admin_client.get(url).json()["results"]

    assert patched.json()["content"] == "Enviamos en 48 h."
    assert [(d["title"], d["content"]) for d in listed] == [("Envíos", "Enviamos en 48 h.")]
    assert admin_client.get(f"/api/assistants/{assistant.pk}").json()["knowledge_count"] == 1
    assert admin_client.delete(document_url).status_code == 204
    assert KnowledgeDocument.objects.count() == 0


def test_knowledge_changes_mark_the_index_stale(admin_client, assistant):
    url = f"/api/assistants/{assistant.pk}/knowledge"
    admin_client.post(url, {"title": "Horario", "content": "9 a 19"}, format="json")

    assert admin_client.get(f"/api/assistants/{assistant.pk}").json()["needs_training"] is True


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": "x"},
        {"content": "y"},
        {"title": "", "content": "y"},
        {"title": "x" * 201, "content": "y"},
    ],
)
def test_invalid_knowledge_is_400(admin_client, assistant, body):
    response = admin_client.post(f"/api/assistants/{assistant.pk}/knowledge", body, format="json")

    assert response.status_code == 400
    assert KnowledgeDocument.objects.count() == 0


def test_agent_reads_knowledge_but_cannot_write(agent_client, assistant):
    document = KnowledgeDocumentFactory(assistant=assistant, title="Original")
    url = f"/api/assistants/{assistant.pk}/knowledge"

    assert agent_client.get(url).json()["results"][0]["title"] == "Original"
    assert agent_client.get(f"{url}/{document.pk}").status_code == 200
    assert agent_client.post(url, {"title": "x", "content": "y"}, format="json").status_code == 403
    assert (
        agent_client.patch(f"{url}/{document.pk}", {"title": "x"}, format="json").status_code == 403
    )
    assert agent_client.delete(f"{url}/{document.pk}").status_code == 403
    document.refresh_from_db()
    assert (KnowledgeDocument.objects.count(), document.title) == (1, "Original")


def test_outsider_gets_404_on_knowledge(outsider_client, assistant):
    document = KnowledgeDocumentFactory(assistant=assistant, title="Original")
    url = f"/api/assistants/{assistant.pk}/knowledge"

    assert outsider_client.get(url).status_code == 404
    assert outsider_client.get(f"{url}/{document.pk}").status_code == 404
    assert (
        outsider_client.post(url, {"title": "x", "content": "y"}, format="json").status_code == 404
    )
    assert (
        outsider_client.put(
            f"{url}/{document.pk}", {"title": "x", "content": "y"}, format="json"
        ).status_code
        == 404
    )
    assert outsider_client.delete(f"{url}/{document.pk}").status_code == 404
    document.refresh_from_db()
    assert (KnowledgeDocument.objects.count(), document.title) == (1, "Original")


# --- training ----------------------------------------------------------------------------------


def test_train_marks_training_then_the_task_builds_the_index(
    admin_client, assistant, django_capture_on_commit_callbacks
):
    KnowledgeDocumentFactory(assistant=assistant, title="Envíos", content="Enviamos a todo México.")
    KnowledgeDocumentFactory(assistant=assistant, title="Pagos", content="Tarjeta o efectivo.")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(f"/api/assistants/{assistant.pk}/train")

    assert response.status_code == 202
    assert response.json()["status"] == "training"
    assistant.refresh_from_db()
    assert assistant.status == "training"
    for callback in callbacks:
        callback()
    assistant.refresh_from_db()
    assert assistant.status == "active"
    assert assistant.trained_at is not None
    assert assistant.needs_training is False
    assert sorted(KnowledgeChunk.objects.values_list("title", flat=True)) == ["Envíos", "Pagos"]


def test_training_again_replaces_the_index(
    admin_client, assistant, django_capture_on_commit_callbacks
):
    first = KnowledgeDocumentFactory(assistant=assistant, title="Viejo", content="Texto viejo.")
    url = f"/api/assistants/{assistant.pk}/train"
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url)
    admin_client.delete(f"/api/assistants/{assistant.pk}/knowledge/{first.pk}")
    KnowledgeDocumentFactory(assistant=assistant, title="Nuevo", content="Texto nuevo.")

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url)

    assert list(KnowledgeChunk.objects.values_list("title", "content")) == [
        ("Nuevo", "Texto nuevo.")
    ]


def test_training_keeps_an_assistant_made_inactive_meanwhile(
    admin_client, assistant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        admin_client.post(f"/api/assistants/{assistant.pk}/train")
    Assistant.objects.filter(pk=assistant.pk).update(status="inactive")
    for callback in callbacks:
        callback()

    assistant.refresh_from_db()
    assert assistant.status == "inactive"


@pytest.mark.parametrize(
    ("client_name", "status"), [("agent_client", 403), ("outsider_client", 404)]
)
def test_others_cannot_train(request, assistant, client_name, status):
    client = request.getfixturevalue(client_name)

    assert client.post(f"/api/assistants/{assistant.pk}/train").status_code == status
    assistant.refresh_from_db()
    assert assistant.status == "active"
