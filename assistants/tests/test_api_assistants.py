"""/api/assistants: CRUD, validation, roles and workspace isolation."""

from __future__ import annotations

import pytest

from assistants.models import Assistant
from assistants.tests.factories import AIAssistantFactory, AssistantFactory, ScheduleFactory

pytestmark = pytest.mark.django_db

AUTO_BODY = {
    "name": "Fuera de horario",
    "type": "auto",
    "auto_response": "Volvemos mañana a las 9:00.",
    "schedule_mode": "outside",
}
AI_BODY = {
    "name": "Ventas",
    "type": "ai",
    "ai_prompt": "Eres un vendedor amable.",
    "model": "gpt-4o",
    "temperature": 0.2,
    "max_tokens": 300,
}


def _error_fields(response) -> set[str]:
    assert response.status_code == 400, response.content
    return set(response.json()["error"]["details"])


# --- create ------------------------------------------------------------------------------------


def test_admin_creates_auto_assistant(admin_client, workspace):
    response = admin_client.post("/api/assistants", AUTO_BODY, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["type"], body["status"], body["schedule_mode"]) == (
        "Fuera de horario",
        "auto",
        "active",
        "outside",
    )
    assert (body["schedules"], body["knowledge_count"], body["needs_training"]) == ([], 0, False)
    assistant = Assistant.objects.get()
    assert (assistant.workspace_id, assistant.auto_response) == (
        workspace.pk,
        "Volvemos mañana a las 9:00.",
    )


def test_admin_creates_ai_assistant_with_model_settings(admin_client):
    response = admin_client.post("/api/assistants/", AI_BODY, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["model"], body["temperature"], body["max_tokens"]) == ("gpt-4o", 0.2, 300)
    assert body["handoff_quiet_minutes"] == 30


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "A", "type": "auto"}, "auto_response"),
        ({"name": "A", "type": "auto", "auto_response": "   "}, "auto_response"),
        ({"name": "A", "type": "ai"}, "ai_prompt"),
        ({"name": "A", "type": "ai", "ai_prompt": ""}, "ai_prompt"),
        ({"name": "A", "type": "robot", "auto_response": "x"}, "type"),
        ({"type": "auto", "auto_response": "x"}, "name"),
        ({"name": "A", "auto_response": "x"}, "type"),
        ({**AUTO_BODY, "schedule_mode": "sometimes"}, "schedule_mode"),
        ({**AUTO_BODY, "status": "training"}, "status"),
        ({**AI_BODY, "temperature": 2.5}, "temperature"),
        ({**AI_BODY, "max_tokens": 0}, "max_tokens"),
        ({**AI_BODY, "max_tokens": 5000}, "max_tokens"),
    ],
)
def test_create_rejects_invalid_assistants(admin_client, body, field):
    response = admin_client.post("/api/assistants", body, format="json")

    assert field in _error_fields(response)
    assert Assistant.objects.count() == 0


def test_agent_cannot_create(agent_client):
    response = agent_client.post("/api/assistants", AUTO_BODY, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert Assistant.objects.count() == 0


def test_anonymous_is_401(anonymous_client):
    assert anonymous_client.get("/api/assistants").status_code == 401


# --- read --------------------------------------------------------------------------------------


def test_members_list_their_workspace_assistants(admin_client, agent_client, workspace, outsider):
    mine = AssistantFactory(workspace=workspace, name="Mío")
    ScheduleFactory(assistant=mine, day_of_week=2)
    ScheduleFactory(assistant=mine, day_of_week=1)
    AssistantFactory(workspace=outsider.workspace, name="Ajeno")

    for client in (admin_client, agent_client):
        response = client.get("/api/assistants")
        assert response.status_code == 200
        rows = response.json()["results"]
        assert [row["name"] for row in rows] == ["Mío"]
        assert [s["day_of_week"] for s in rows[0]["schedules"]] == [1, 2]
        assert rows[0]["schedules"][0]["start_time"] == "09:00"


def test_list_query_count_does_not_grow_with_assistants(
    admin_client, workspace, django_assert_max_num_queries
):
    for _ in range(5):
        ScheduleFactory(assistant=AssistantFactory(workspace=workspace))

    with django_assert_max_num_queries(6):
        response = admin_client.get("/api/assistants")

    assert len(response.json()["results"]) == 5


def test_agent_reads_one_assistant(agent_client, workspace):
    assistant = AIAssistantFactory(workspace=workspace)

    response = agent_client.get(f"/api/assistants/{assistant.pk}")

    assert response.status_code == 200
    assert response.json()["ai_prompt"] == assistant.ai_prompt


def test_outsider_gets_404_for_another_workspace_assistant(outsider_client, workspace):
    assistant = AssistantFactory(workspace=workspace)

    assert outsider_client.get(f"/api/assistants/{assistant.pk}").status_code == 404
    assert outsider_client.get("/api/assistants").json()["results"] == []


def test_malformed_id_is_404(admin_client):
    assert admin_client.get("/api/assistants/not-a-uuid").status_code == 404


# --- update ------------------------------------------------------------------------------------


def test_admin_patches_fields(admin_client, workspace):
    assistant = AssistantFactory(workspace=workspace)

    response = admin_client.patch(
        f"/api/assistants/{assistant.pk}",
        {"status": "inactive", "handoff_quiet_minutes": 5},
        format="json",
    )

    assert response.status_code == 200, response.content
    assistant.refresh_from_db()
    assert (assistant.status, assistant.handoff_quiet_minutes) == ("inactive", 5)


def test_an_assistant_in_training_can_be_renamed(admin_client, workspace):
    assistant = AssistantFactory(workspace=workspace, status=Assistant.Status.TRAINING)

    response = admin_client.patch(
        f"/api/assistants/{assistant.pk}", {"name": "Ventas"}, format="json"
    )

    assert response.status_code == 200, response.content
    assistant.refresh_from_db()
    assert (assistant.name, assistant.status) == ("Ventas", "training")


def test_switching_to_ai_requires_a_prompt(admin_client, workspace):
    assistant = AssistantFactory(workspace=workspace)

    response = admin_client.patch(f"/api/assistants/{assistant.pk}", {"type": "ai"}, format="json")

    assert _error_fields(response) == {"ai_prompt"}
    assistant.refresh_from_db()
    assert assistant.type == "auto"


def test_clearing_the_fixed_reply_of_an_auto_assistant_is_400(admin_client, workspace):
    assistant = AssistantFactory(workspace=workspace)

    response = admin_client.patch(
        f"/api/assistants/{assistant.pk}", {"auto_response": ""}, format="json"
    )

    assert _error_fields(response) == {"auto_response"}


def test_put_replaces_the_assistant(admin_client, workspace):
    assistant = AssistantFactory(workspace=workspace)

    response = admin_client.put(f"/api/assistants/{assistant.pk}", AI_BODY, format="json")

    assert response.status_code == 200, response.content
    assistant.refresh_from_db()
    assert (assistant.name, assistant.type, assistant.model) == ("Ventas", "ai", "gpt-4o")


def test_agent_cannot_update(agent_client, workspace):
    assistant = AssistantFactory(workspace=workspace, name="Original")

    response = agent_client.patch(
        f"/api/assistants/{assistant.pk}", {"name": "Changed"}, format="json"
    )

    assert response.status_code == 403
    assistant.refresh_from_db()
    assert assistant.name == "Original"


def test_outsider_cannot_update(outsider_client, workspace):
    assistant = AssistantFactory(workspace=workspace, name="Original")

    response = outsider_client.patch(
        f"/api/assistants/{assistant.pk}", {"name": "Changed"}, format="json"
    )

    assert response.status_code == 404
    assistant.refresh_from_db()
    assert assistant.name == "Original"


# --- delete ------------------------------------------------------------------------------------


def test_admin_deletes(admin_client, workspace):
    assistant = AssistantFactory(workspace=workspace)

    assert admin_client.delete(f"/api/assistants/{assistant.pk}").status_code == 204
    assert Assistant.objects.count() == 0


@pytest.mark.parametrize(
    ("client_name", "status"), [("agent_client", 403), ("outsider_client", 404)]
)
def test_others_cannot_delete(request, workspace, client_name, status):
    assistant = AssistantFactory(workspace=workspace)
    client = request.getfixturevalue(client_name)

    assert client.delete(f"/api/assistants/{assistant.pk}").status_code == status
    assert Assistant.objects.filter(pk=assistant.pk).exists()
