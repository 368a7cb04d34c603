"""Assistant settings pages through the Django test client: every page and action, who may use
them, refused input (400, nothing changed) and other workspaces' objects (404, nothing changed)."""

from __future__ import annotations

from datetime import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from assistants.models import Assistant, KnowledgeChunk, KnowledgeDocument, Schedule
from assistants.tests.factories import (
    AIAssistantFactory,
    AssistantFactory,
    KnowledgeDocumentFactory,
    ScheduleFactory,
)
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

DASH = "\N{EN DASH}"  # between the times of an interval in the week table

VALID_ASSISTANT = {
    "name": "Recepción",
    "description": "Saluda fuera de horario",
    "type": "auto",
    "status": "active",
    "auto_response": "¡Hola! Te respondemos en horario de oficina.",
    "ai_prompt": "",
    "model": "",
    "temperature": "0.7",
    "max_tokens": "500",
    "schedule_mode": "outside",
    "handoff_quiet_minutes": "30",
}


@pytest.fixture
def assistant(workspace):
    return AIAssistantFactory(workspace=workspace, name="Ventas")


@pytest.fixture
def schedule(assistant):
    return ScheduleFactory(
        assistant=assistant, day_of_week=1, start_time=time(9), end_time=time(18)
    )


@pytest.fixture
def document(assistant):
    return KnowledgeDocumentFactory(
        assistant=assistant, title="Horario", content="Abrimos de lunes a viernes de 9 a 19."
    )


@pytest.fixture
def admin(client, admin_user):
    # The admin chose no language: pages speak their workspace's (the factory's Spanish).
    client.force_login(admin_user)
    return client


def _snapshot():
    """Everything these pages can change, to prove a refused request changed nothing."""
    return (
        sorted(Assistant.objects.values_list("id", "name", "type", "status", "updated_at")),
        sorted(Schedule.objects.values_list("id", "day_of_week", "start_time", "end_time")),
        sorted(KnowledgeDocument.objects.values_list("id", "title", "content")),
        KnowledgeChunk.objects.count(),
    )


def _object_urls(assistant, schedule, document) -> list[tuple[str, str]]:
    a, s, d = assistant.pk, schedule.pk, document.pk
    return [
        ("get", reverse("settings-assistant", args=[a])),
        ("post", reverse("settings-assistant", args=[a])),
        ("get", reverse("settings-assistant-delete", args=[a])),
        ("post", reverse("settings-assistant-delete", args=[a])),
        ("get", reverse("settings-assistant-schedules", args=[a])),
        ("post", reverse("settings-assistant-schedules", args=[a])),
        ("get", reverse("settings-assistant-schedule", args=[a, s])),
        ("post", reverse("settings-assistant-schedule", args=[a, s])),
        ("post", reverse("settings-assistant-schedule-delete", args=[a, s])),
        ("get", reverse("settings-assistant-knowledge", args=[a])),
        ("post", reverse("settings-assistant-knowledge", args=[a])),
        ("get", reverse("settings-assistant-document", args=[a, d])),
        ("post", reverse("settings-assistant-document", args=[a, d])),
        ("post", reverse("settings-assistant-document-delete", args=[a, d])),
        ("post", reverse("settings-assistant-train", args=[a])),
        ("get", reverse("settings-assistant-playground", args=[a])),
    ]


def _body_for(url: str) -> dict:
    if "/schedules/" in url:
        return {"day_of_week": "2", "start_time": "08:00", "end_time": "12:00", "enabled": "on"}
    if "/knowledge/" in url:
        return {"title": "Nuevo", "content": "Texto"}
    return dict(VALID_ASSISTANT)


# --- who may open what ---------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, assistant, schedule, document):
    before = _snapshot()
    urls = [
        ("get", reverse("settings-assistants")),
        ("get", reverse("settings-assistant-create")),
        *_object_urls(assistant, schedule, document),
    ]

    for method, url in urls:
        response = getattr(client, method)(url, _body_for(url) if method == "post" else None)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/"), url
    assert _snapshot() == before


def test_agents_are_forbidden_every_page(client, agent_user, assistant, schedule, document):
    client.force_login(agent_user)
    before = _snapshot()
    urls = [
        ("get", reverse("settings-assistants")),
        ("get", reverse("settings-assistant-create")),
        ("post", reverse("settings-assistant-create")),
        *_object_urls(assistant, schedule, document),
    ]

    for method, url in urls:
        response = getattr(client, method)(url, _body_for(url) if method == "post" else None)
        assert response.status_code == 403, url
    assert _snapshot() == before


def test_another_workspace_objects_are_404_and_unchanged(
    client, outsider, assistant, schedule, document
):
    client.force_login(outsider)
    before = _snapshot()

    for method, url in _object_urls(assistant, schedule, document):
        response = getattr(client, method)(url, _body_for(url) if method == "post" else None)
        assert response.status_code == 404, (method, url)
    assert _snapshot() == before


def test_a_schedule_or_document_of_another_assistant_is_404(admin, workspace, assistant):
    # Both assistants are the admin's own: the child id must belong to the assistant in the URL.
    other = AssistantFactory(workspace=workspace)
    schedule = ScheduleFactory(assistant=other)
    document = KnowledgeDocumentFactory(assistant=other)

    schedule_url = reverse("settings-assistant-schedule", args=[assistant.pk, schedule.pk])
    document_url = reverse("settings-assistant-document", args=[assistant.pk, document.pk])
    delete_url = reverse("settings-assistant-schedule-delete", args=[assistant.pk, schedule.pk])

    assert admin.get(schedule_url).status_code == 404
    assert admin.get(document_url).status_code == 404
    assert admin.post(delete_url).status_code == 404
    assert Schedule.objects.filter(pk=schedule.pk).exists()


def test_outsider_sees_only_their_own_assistants(client, outsider, assistant):
    client.force_login(outsider)

    response = client.get(reverse("settings-assistants"))

    assert response.status_code == 200
    assert "Ventas" not in response.content.decode()


# --- list ----------------------------------------------------------------------------------------


def test_list_shows_type_status_mode_and_default_channels(admin, workspace):
    first = AssistantFactory(workspace=workspace, name="Recepción", schedule_mode="inside")
    ScheduleFactory(assistant=first)
    IntegrationFactory(workspace=workspace, name="WhatsApp Ventas", default_assistant=first)
    for n in range(4):
        assistant = AIAssistantFactory(workspace=workspace, name=f"IA {n}", status="inactive")
        IntegrationFactory(workspace=workspace, name=f"Canal {n}", default_assistant=assistant)

    response = admin.get(reverse("settings-assistants"))

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["nav"] == "assistants"
    assert html.count('data-testid="assistant-row"') == 5
    assert "Recepción" in html
    assert "WhatsApp Ventas" in html
    assert "Canal 3" in html
    assert "Solo dentro de sus horarios" in html
    assert "Respuesta con IA" in html
    assert "Respuesta fija" in html
    assert "Inactivo" in html


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("settings-assistants")).status_code == 200
    return len(queries)


def _listed_assistant(workspace, n: int) -> None:
    """A row that uses every relation the list shows: schedules, knowledge, channels."""
    assistant = AssistantFactory(workspace=workspace, name=f"A {n}", schedule_mode="inside")
    ScheduleFactory(assistant=assistant)
    KnowledgeDocumentFactory(assistant=assistant)
    IntegrationFactory(workspace=workspace, name=f"Canal {n}", default_assistant=assistant)


def test_list_query_count_does_not_grow_with_assistants(admin, workspace):
    _listed_assistant(workspace, 0)
    with_one = _list_queries(admin)

    for n in range(1, 6):
        _listed_assistant(workspace, n)
    with_six = _list_queries(admin)

    assert with_six == with_one
    assert with_one <= 12


@pytest.mark.parametrize("editing", [False, True])
def test_schedules_page_reads_the_schedules_once(admin, assistant, schedule, editing):
    ScheduleFactory(assistant=assistant, day_of_week=2)
    url = (
        reverse("settings-assistant-schedule", args=[assistant.pk, schedule.pk])
        if editing
        else reverse("settings-assistant-schedules", args=[assistant.pk])
    )

    with CaptureQueriesContext(connection) as queries:
        response = admin.get(url)

    table = Schedule._meta.db_table
    assert response.status_code == 200
    assert len(response.context["schedules"]) == 2
    reads = [q["sql"] for q in queries if f'FROM "{table}"' in q["sql"]]
    assert len(reads) == 1 + editing  # the assistant's (prefetched); the edited one


def test_empty_list_invites_to_create(admin):
    response = admin.get(reverse("settings-assistants"))

    assert 'data-testid="assistant-empty"' in response.content.decode()


# --- create, edit, delete ------------------------------------------------------------------------


def test_create_assistant(admin, workspace):
    response = admin.post(reverse("settings-assistant-create"), VALID_ASSISTANT)

    assistant = Assistant.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("settings-assistant", args=[assistant.pk])
    assert assistant.workspace == workspace
    assert (assistant.name, assistant.type, assistant.schedule_mode) == (
        "Recepción",
        "auto",
        "outside",
    )
    assert assistant.auto_response == VALID_ASSISTANT["auto_response"]
    assert assistant.temperature == 0.7
    assert assistant.max_tokens == 500
    follow = admin.get(response["Location"])
    assert "Recepción" in follow.content.decode()
    assert [str(m) for m in follow.context["messages"]] == ["Asistente “Recepción” creado."]


def test_create_ai_assistant_with_model_settings(admin):
    body = {
        **VALID_ASSISTANT,
        "type": "ai",
        "ai_prompt": "Eres amable.",
        "model": "gpt-4o-mini",
        "temperature": "0.2",
        "max_tokens": "300",
    }

    response = admin.post(reverse("settings-assistant-create"), body)

    assistant = Assistant.objects.get()
    assert response.status_code == 302
    assert (assistant.type, assistant.ai_prompt, assistant.model) == (
        "ai",
        "Eres amable.",
        "gpt-4o-mini",
    )
    assert (assistant.temperature, assistant.max_tokens) == (0.2, 300)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"auto_response": ""}, "auto_response"),  # service rule: fixed reply needs text
        ({"type": "ai", "ai_prompt": ""}, "ai_prompt"),  # service rule: AI needs instructions
        ({"temperature": "2.5"}, "temperature"),
        ({"max_tokens": "0"}, "max_tokens"),
        ({"name": ""}, "name"),
        ({"type": "robot"}, "type"),
        ({"schedule_mode": "sometimes"}, "schedule_mode"),
        ({"status": "training"}, "status"),
        ({"description": "x" * 2001}, "description"),  # the API serializer's limit
    ],
)
def test_create_refuses_invalid_input(admin, changes, field):
    response = admin.post(reverse("settings-assistant-create"), {**VALID_ASSISTANT, **changes})

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert f'data-testid="error-{field}"' in response.content.decode()
    assert Assistant.objects.count() == 0


def test_service_rules_are_reported_with_the_field_errors(admin):
    body = {**VALID_ASSISTANT, "type": "ai", "ai_prompt": "", "temperature": "9"}

    response = admin.post(reverse("settings-assistant-create"), body)

    errors = response.context["form"].errors
    assert response.status_code == 400
    assert set(errors) == {"ai_prompt", "temperature"}
    with translation.override("es"):  # the page's language (the workspace's Spanish)
        assert errors["ai_prompt"] == [
            "Un asistente con IA necesita instrucciones (el prompt del sistema)."
        ]
    assert "Un asistente con IA necesita instrucciones" in response.content.decode()
    assert Assistant.objects.count() == 0


def test_edit_form_shows_current_values(admin, assistant):
    response = admin.get(reverse("settings-assistant", args=[assistant.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["tab"] == "settings"
    assert assistant.ai_prompt in html
    assert 'value="gpt-4o-mini"' in html


def test_edit_assistant(admin, assistant):
    body = {
        **VALID_ASSISTANT,
        "name": "Ventas 2",
        "type": "ai",
        "ai_prompt": "Nuevo prompt",
        "status": "inactive",
        "schedule_mode": "inside",
        "temperature": "1.1",
    }

    response = admin.post(reverse("settings-assistant", args=[assistant.pk]), body)

    assistant.refresh_from_db()
    assert response.status_code == 302
    assert (assistant.name, assistant.ai_prompt, assistant.status) == (
        "Ventas 2",
        "Nuevo prompt",
        "inactive",
    )
    assert (assistant.schedule_mode, assistant.temperature) == ("inside", 1.1)


def test_edit_refuses_invalid_input_and_changes_nothing(admin, assistant):
    before = _snapshot()
    body = {**VALID_ASSISTANT, "name": "Cambiado", "type": "ai", "ai_prompt": "  "}

    response = admin.post(reverse("settings-assistant", args=[assistant.pk]), body)

    assert response.status_code == 400
    assert "ai_prompt" in response.context["form"].errors
    assert _snapshot() == before


def test_edit_an_assistant_while_it_trains(admin, assistant):
    Assistant.objects.filter(pk=assistant.pk).update(status="training")
    url = reverse("settings-assistant", args=[assistant.pk])
    assert admin.get(url).context["form"].initial["status"] == "active"
    body = {**VALID_ASSISTANT, "type": "ai", "ai_prompt": "x", "status": "inactive", "name": "Otro"}

    response = admin.post(url, body)

    assistant.refresh_from_db()
    assert response.status_code == 302
    assert (assistant.name, assistant.status) == ("Otro", "inactive")


def test_delete_asks_then_deletes(admin, workspace, assistant):
    IntegrationFactory(workspace=workspace, name="Canal WA", default_assistant=assistant)
    url = reverse("settings-assistant-delete", args=[assistant.pk])

    confirm = admin.get(url)
    assert confirm.status_code == 200
    assert "Canal WA" in confirm.content.decode()  # warns about the channels that lose it
    assert Assistant.objects.count() == 1

    response = admin.post(url)

    assert response.status_code == 302
    assert response["Location"] == reverse("settings-assistants")
    assert Assistant.objects.count() == 0


def test_settings_pages_only_accept_their_methods(admin, assistant):
    assert admin.get(reverse("settings-assistant-train", args=[assistant.pk])).status_code == 405
    assert admin.post(reverse("settings-assistants")).status_code == 405


# --- schedules -----------------------------------------------------------------------------------


def test_schedules_page_draws_the_week(admin, assistant, schedule):
    ScheduleFactory(assistant=assistant, day_of_week=5, start_time=time(22), end_time=time(2))

    response = admin.get(reverse("settings-assistant-schedules", args=[assistant.pk]))

    html = response.content.decode()
    week = {row.day: row for row in response.context["week"]}
    assert response.status_code == 200
    assert [row.day for row in response.context["week"]] == [1, 2, 3, 4, 5, 6, 0]
    assert [s.pk for s in week[1].schedules] == [schedule.pk]
    # Friday 22:00 to 02:00 runs into Saturday: drawn on both days, listed on Friday.
    assert [seg.spill for seg in week[5].segments] == [False]
    assert [(seg.start_minute, seg.end_minute, seg.spill) for seg in week[6].segments] == [
        (0, 120, True)
    ]
    assert f"09:00{DASH}18:00" in html
    assert f"22:00{DASH}02:00" in html
    assert 'data-testid="week-table"' in html


def test_add_interval(admin, assistant):
    url = reverse("settings-assistant-schedules", args=[assistant.pk])

    response = admin.post(
        url, {"day_of_week": "3", "start_time": "08:30", "end_time": "13:00", "enabled": "on"}
    )

    schedule = Schedule.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url
    assert (schedule.assistant, schedule.day_of_week, schedule.enabled) == (assistant, 3, True)
    assert (schedule.start_time, schedule.end_time) == (time(8, 30), time(13))


def test_add_interval_past_midnight_and_disabled(admin, assistant):
    url = reverse("settings-assistant-schedules", args=[assistant.pk])

    response = admin.post(url, {"day_of_week": "6", "start_time": "20:00", "end_time": "03:00"})

    schedule = Schedule.objects.get()
    assert response.status_code == 302
    assert schedule.crosses_midnight is True
    assert schedule.enabled is False  # an unchecked box


@pytest.mark.parametrize(
    "body",
    [
        {"day_of_week": "7", "start_time": "08:00", "end_time": "09:00"},
        {"day_of_week": "1", "start_time": "", "end_time": "09:00"},
        {"day_of_week": "1", "start_time": "25:00", "end_time": "09:00"},
        {"start_time": "08:00", "end_time": "09:00"},
    ],
)
def test_add_interval_refuses_invalid_input(admin, assistant, body):
    response = admin.post(reverse("settings-assistant-schedules", args=[assistant.pk]), body)

    assert response.status_code == 400
    assert response.context["form"].errors
    assert Schedule.objects.count() == 0


def test_edit_interval(admin, assistant, schedule):
    url = reverse("settings-assistant-schedule", args=[assistant.pk, schedule.pk])
    assert admin.get(url).context["editing"] == schedule

    response = admin.post(url, {"day_of_week": "0", "start_time": "10:00", "end_time": "14:00"})

    schedule.refresh_from_db()
    assert response.status_code == 302
    assert (schedule.day_of_week, schedule.start_time, schedule.end_time, schedule.enabled) == (
        0,
        time(10),
        time(14),
        False,
    )


def test_edit_interval_refuses_invalid_input(admin, assistant, schedule):
    before = _snapshot()
    url = reverse("settings-assistant-schedule", args=[assistant.pk, schedule.pk])

    response = admin.post(url, {"day_of_week": "-1", "start_time": "10:00", "end_time": "x"})

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"day_of_week", "end_time"}
    assert _snapshot() == before


def test_delete_interval(admin, assistant, schedule):
    url = reverse("settings-assistant-schedule-delete", args=[assistant.pk, schedule.pk])

    response = admin.post(url)

    assert response.status_code == 302
    assert Schedule.objects.count() == 0


# --- knowledge and training ----------------------------------------------------------------------


def test_knowledge_page_lists_documents(admin, assistant, document):
    response = admin.get(reverse("settings-assistant-knowledge", args=[assistant.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Horario" in html
    assert 'data-testid="train"' in html


def test_add_document_marks_training_needed(admin, assistant):
    url = reverse("settings-assistant-knowledge", args=[assistant.pk])

    response = admin.post(url, {"title": "Envíos", "content": "Enviamos a todo el país."})

    document = KnowledgeDocument.objects.get()
    assistant.refresh_from_db()
    assert response.status_code == 302
    assert (document.assistant, document.title) == (assistant, "Envíos")
    assert assistant.needs_training is True
    assert "Necesita entrenamiento" in admin.get(url).content.decode()


@pytest.mark.parametrize(
    "body",
    [{"title": "", "content": "x"}, {"title": "x", "content": ""}, {"title": "x" * 201}],
)
def test_add_document_refuses_invalid_input(admin, assistant, body):
    url = reverse("settings-assistant-knowledge", args=[assistant.pk])

    response = admin.post(url, body)

    assert response.status_code == 400
    assert KnowledgeDocument.objects.count() == 0


def test_edit_document(admin, assistant, document):
    url = reverse("settings-assistant-document", args=[assistant.pk, document.pk])
    assert "Abrimos de lunes" in admin.get(url).content.decode()

    response = admin.post(url, {"title": "Horario nuevo", "content": "Abrimos los sábados."})

    document.refresh_from_db()
    assert response.status_code == 302
    assert (document.title, document.content) == ("Horario nuevo", "Abrimos los sábados.")


def test_edit_document_refuses_invalid_input(admin, assistant, document):
    before = _snapshot()
    url = reverse("settings-assistant-document", args=[assistant.pk, document.pk])

    response = admin.post(url, {"title": "Otro", "content": "   "})

    assert response.status_code == 400
    assert _snapshot() == before


def test_delete_document(admin, assistant, document):
    url = reverse("settings-assistant-document-delete", args=[assistant.pk, document.pk])

    response = admin.post(url)

    assert response.status_code == 302
    assert KnowledgeDocument.objects.count() == 0


def test_train_builds_the_index(admin, assistant, document, django_capture_on_commit_callbacks):
    url = reverse("settings-assistant-train", args=[assistant.pk])

    # The index is built by a task once the request's transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(url)

    assistant.refresh_from_db()
    page = admin.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"] == reverse("settings-assistant-knowledge", args=[assistant.pk])
    assert assistant.status == "active"
    assert assistant.trained_at is not None
    assert assistant.needs_training is False
    assert KnowledgeChunk.objects.filter(assistant=assistant).count() == 1
    assert 'data-testid="train-status">Actualizado' in page.content.decode()


def test_train_reports_a_training_still_running(admin, assistant, document):
    url = reverse("settings-assistant-train", args=[assistant.pk])

    response = admin.post(url, follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        "El entrenamiento comenzó. Recarga esta página en un momento para ver el resultado."
    ]
    assert 'data-testid="train-status">Entrenando' in response.content.decode()
    assert Assistant.objects.get().status == "training"


# --- playground ----------------------------------------------------------------------------------


def test_playground_page_points_at_the_test_endpoint(admin, assistant):
    response = admin.get(reverse("settings-assistant-playground", args=[assistant.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-endpoint="/api/assistants/{assistant.pk}/test"' in html
    assert "js/settings/playground.js" in html
    assert "<script>" not in html  # no inline scripts (CSP)


def test_playground_endpoint_answers_a_session_user(
    admin, assistant, document, django_capture_on_commit_callbacks
):
    # The page's module calls the API with the session cookie (and the CSRF token).
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(reverse("settings-assistant-train", args=[assistant.pk]))

    response = admin.post(
        f"/api/assistants/{assistant.pk}/test",
        {"message": "¿Qué horario tienen?"},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["snippets"][0]["title"] == "Horario"
