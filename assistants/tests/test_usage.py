"""Plan quotas, AIUsage, and the /api/ai/* and playground endpoints."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from assistants import usage
from assistants.models import AIDailyUsage, AIUsage
from assistants.tests.factories import AIAssistantFactory, AIUsageFactory, AssistantFactory
from assistants.tests.fake_openai import Scripted

pytestmark = pytest.mark.django_db

JUNE_1 = datetime(2025, 6, 1, 18, 0, tzinfo=UTC)


# --- quota -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "requests", "tokens", "allowed"),
    [
        ("free", 99, 0, True),
        ("free", 100, 0, False),
        ("free", 0, 50_000, False),
        ("starter", 999, 499_999, True),
        ("starter", 1_000, 0, False),
        ("pro", 9_999, 0, True),
        ("pro", 0, 5_000_000, False),
        ("business", 10**6, 10**9, True),
    ],
)
def test_plan_limits(workspace, plan, requests, tokens, allowed):
    workspace.plan = plan
    workspace.save()
    day = usage.local_day(workspace, JUNE_1)
    AIDailyUsage.objects.create(workspace=workspace, day=day, requests=requests, tokens=tokens)

    assert usage.quota_reserve(workspace=workspace, at=JUNE_1) is allowed
    assert AIDailyUsage.objects.get().requests == requests + (1 if allowed else 0)


def test_quota_day_is_the_workspace_local_day(workspace):
    late_evening_in_mexico = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)  # June 1, 21:00 local

    usage.quota_reserve(workspace=workspace, at=late_evening_in_mexico)

    assert AIDailyUsage.objects.get().day == date(2025, 6, 1)


def test_limits_come_from_settings(workspace, settings):
    settings.AI_PLAN_LIMITS = {"pro": {"requests": 1, "tokens": 10}}

    assert usage.quota_reserve(workspace=workspace, at=JUNE_1) is True
    assert usage.quota_reserve(workspace=workspace, at=JUNE_1) is False


def test_cost_uses_the_price_table(settings):
    assert usage.usage_cost("gpt-4o", 1_000, 500) == Decimal("0.007500")
    settings.AI_PRICES = {"my-model": {"prompt": 1, "completion": 2}}
    assert usage.usage_cost("my-model", 1_000_000, 1_000_000) == Decimal("3.000000")
    assert usage.usage_cost("gpt-4o", 1_000, 500) == Decimal(0)


def test_metered_call_counts_request_and_tokens(admin_client, workspace, openai_server):
    assistant = AIAssistantFactory(workspace=workspace)

    response = _test_call(admin_client, assistant)

    assert response.status_code == 200
    ledger = AIDailyUsage.objects.get()
    assert (ledger.requests, ledger.tokens) == (1, 50)


@pytest.fixture
def admin_session_client(admin_user):
    """The admin signed in to the product's pages (the Free plan has no API access)."""
    client = APIClient()
    client.force_login(admin_user)
    return client


def test_last_request_of_the_day_goes_through_and_the_next_does_not(
    admin_session_client, workspace, openai_server
):
    admin_client = admin_session_client
    workspace.plan = "free"
    workspace.save()
    assistant = AIAssistantFactory(workspace=workspace)
    AIDailyUsage.objects.create(
        workspace=workspace, day=usage.local_day(workspace, timezone.now()), requests=99
    )

    first = _test_call(admin_client, assistant).json()
    second = _test_call(admin_client, assistant).json()

    assert (first["source"], second["source"]) == ("ai", "auto_response")
    assert second["error"] == "quota_exceeded"
    assert len(openai_server.chat_requests) == 1


def _test_call(client, assistant, message="Hola"):
    return client.post(f"/api/assistants/{assistant.pk}/test", {"message": message}, format="json")


# --- GET /api/ai/usage -------------------------------------------------------------------------


@pytest.fixture
def usage_rows(workspace):
    sales = AIAssistantFactory(workspace=workspace, name="Ventas")
    rows = [
        (datetime(2025, 6, 1, 15, tzinfo=UTC), "reply", sales, True),
        (datetime(2025, 6, 2, 3, tzinfo=UTC), "reply", sales, False),  # June 1 in Mexico City
        (datetime(2025, 6, 2, 15, tzinfo=UTC), "analysis", None, True),
        (datetime(2025, 6, 3, 15, tzinfo=UTC), "playground", sales, True),
    ]
    for at, purpose, assistant, succeeded in rows:
        AIUsageFactory(
            workspace=workspace,
            created_at=at,
            purpose=purpose,
            assistant=assistant,
            succeeded=succeeded,
        )
    return sales


def test_usage_by_day_assistant_and_purpose(admin_client, usage_rows):
    response = admin_client.get("/api/ai/usage?from=2025-06-01&to=2025-06-02")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["from"], body["to"], body["timezone"]) == (
        "2025-06-01",
        "2025-06-02",
        "America/Mexico_City",
    )
    assert body["totals"] == {
        "requests": 3,
        "failed": 1,
        "prompt_tokens": 300,
        "completion_tokens": 60,
        "total_tokens": 360,
        "cost": 0.000081,
    }
    assert [(d["day"], d["requests"]) for d in body["by_day"]] == [
        ("2025-06-01", 2),
        ("2025-06-02", 1),
    ]
    assert [(a["assistant_name"], a["requests"]) for a in body["by_assistant"]] == [
        ("Ventas", 2),
        (None, 1),
    ]
    assert [(p["purpose"], p["requests"]) for p in body["by_purpose"]] == [
        ("analysis", 1),
        ("reply", 2),
    ]


def test_usage_defaults_to_the_last_thirty_days(admin_client, workspace):
    AIUsageFactory(workspace=workspace)

    body = admin_client.get("/api/ai/usage").json()

    assert body["totals"]["requests"] == 1
    assert (date.fromisoformat(body["to"]) - date.fromisoformat(body["from"])).days == 29


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2025-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=2025-06-03&to=2025-06-01", "from"),
        ("from=2024-01-01&to=2025-06-01", "from"),
    ],
)
def test_usage_params_are_validated(admin_client, query, field):
    response = admin_client.get(f"/api/ai/usage?{query}")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_agent_cannot_read_usage(agent_client, usage_rows):
    assert agent_client.get("/api/ai/usage").status_code == 403


def test_outsider_sees_only_their_own_usage(outsider_client, usage_rows):
    body = outsider_client.get("/api/ai/usage?from=2025-06-01&to=2025-06-03").json()

    assert body["totals"]["requests"] == 0
    assert body["by_day"] == body["by_assistant"] == body["by_purpose"] == []


# --- GET /api/ai/models, /api/ai/status --------------------------------------------------------


def test_models_list_default_priced_and_in_use(agent_client, workspace, outsider_client):
    AssistantFactory(workspace=workspace, model="llama3.1")

    body = agent_client.get("/api/ai/models").json()

    assert (body["provider"], body["default"]) == ("local", "gpt-4o-mini")
    ids = [m["id"] for m in body["models"]]
    assert ids[0] == "gpt-4o-mini"
    assert "llama3.1" in ids
    first = body["models"][0]
    assert (first["default"], first["prompt_price_per_million"]) == (True, 0.15)
    assert "llama3.1" not in [
        m["id"] for m in outsider_client.get("/api/ai/models").json()["models"]
    ]


def test_status_shows_provider_and_todays_quota(agent_client, workspace, openai_server):
    workspace.plan = "starter"
    workspace.save()
    AIDailyUsage.objects.create(
        workspace=workspace,
        day=usage.local_day(workspace, timezone.now()),
        requests=10,
        tokens=1_000,
    )

    body = agent_client.get("/api/ai/status").json()

    assert (body["provider"], body["model"], body["base_url_configured"]) == (
        "openai",
        "gpt-4o-mini",
        True,
    )
    assert (body["plan"], body["timezone"]) == ("starter", "America/Mexico_City")
    assert body["limits"] == {"requests": 1_000, "tokens": 500_000}
    assert body["used"] == {"requests": 10, "tokens": 1_000}
    assert body["remaining"] == {"requests": 990, "tokens": 499_000}


def test_status_of_an_unlimited_plan(admin_client, workspace):
    workspace.plan = "business"
    workspace.save()

    body = admin_client.get("/api/ai/status").json()

    assert (body["limits"], body["remaining"], body["used"]) == (
        None,
        None,
        {"requests": 0, "tokens": 0},
    )


def test_outsider_status_is_their_own(outsider_client, outsider):
    assert outsider_client.get("/api/ai/status").json()["plan"] == outsider.workspace.plan


# --- playground --------------------------------------------------------------------------------


def test_playground_answers_as_the_ai_assistant_would(admin_client, workspace, openai_server):
    assistant = AIAssistantFactory(workspace=workspace)

    response = admin_client.post(
        f"/api/assistants/{assistant.pk}/test",
        {
            "message": "¿Tienen pasteles sin gluten?",
            "history": [{"role": "user", "content": "Hola"}],
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["reply"], body["source"], body["provider"], body["error"]) == (
        "¡Hola! Claro, con gusto te ayudo.",
        "ai",
        "openai",
        "",
    )
    assert body["usage"]["prompt_tokens"] == 42
    assert body["on_duty"] is True
    sent = openai_server.chat_requests[0]
    assert sent.system_prompt.startswith(assistant.ai_prompt)
    assert sent.messages[1:] == [
        {"role": "user", "content": "Hola"},
        {"role": "user", "content": "¿Tienen pasteles sin gluten?"},
    ]
    recorded = AIUsage.objects.get()
    assert (recorded.purpose, recorded.assistant_id, recorded.conversation_id) == (
        "playground",
        assistant.pk,
        None,
    )


def test_playground_of_a_fixed_reply_assistant_makes_no_call(admin_client, workspace):
    assistant = AssistantFactory(workspace=workspace, auto_response="Hola, volvemos pronto")

    body = admin_client.post(
        f"/api/assistants/{assistant.pk}/test", {"message": "Hola"}, format="json"
    ).json()

    assert (body["reply"], body["source"], body["usage"]) == (
        "Hola, volvemos pronto",
        "auto_response",
        None,
    )
    assert AIUsage.objects.count() == 0


@pytest.mark.parametrize("body", [{}, {"message": ""}, {"message": "x" * 4097}])
def test_playground_validates_the_message(admin_client, workspace, body):
    assistant = AIAssistantFactory(workspace=workspace)

    response = admin_client.post(f"/api/assistants/{assistant.pk}/test", body, format="json")

    assert response.status_code == 400
    assert "message" in response.json()["error"]["details"]


@pytest.mark.parametrize(
    ("client_name", "status"), [("agent_client", 403), ("outsider_client", 404)]
)
def test_others_cannot_use_the_playground(request, workspace, client_name, status):
    assistant = AIAssistantFactory(workspace=workspace)
    client = request.getfixturevalue(client_name)

    response = client.post(
        f"/api/assistants/{assistant.pk}/test", {"message": "Hola"}, format="json"
    )

    assert response.status_code == status
    assert AIUsage.objects.count() == 0


def test_chat_talks_to_the_model(admin_client, openai_server):
    response = admin_client.post(
        "/api/ai/chat",
        {
            "message": "Resume esto",
            "history": [
                {"role": "user", "content": "Hola"},
                {"role": "assistant", "content": "¿Sí?"},
            ],
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["source"] == "ai"
    sent = openai_server.chat_requests[0]
    assert [m["role"] for m in sent.messages] == ["system", "user", "assistant", "user"]
    assert "Business knowledge" not in sent.system_prompt
    assert AIUsage.objects.get().purpose == "playground"


def test_chat_as_an_assistant(admin_client, workspace):
    assistant = AssistantFactory(workspace=workspace, auto_response="Fijo")

    body = admin_client.post(
        "/api/ai/chat", {"message": "Hola", "assistant_id": str(assistant.pk)}, format="json"
    ).json()

    assert body["reply"] == "Fijo"


def test_chat_with_another_workspace_assistant_is_400(admin_client, outsider):
    foreign = AssistantFactory(workspace=outsider.workspace)

    response = admin_client.post(
        "/api/ai/chat", {"message": "Hola", "assistant_id": str(foreign.pk)}, format="json"
    )

    assert response.status_code == 400
    assert "assistant_id" in response.json()["error"]["details"]


def test_chat_on_the_local_provider_explains_itself(admin_client):
    body = admin_client.post("/api/ai/chat", {"message": "Hola"}, format="json").json()

    assert (body["source"], body["provider"]) == ("notice", "local")


def test_chat_over_quota_is_429(admin_session_client, workspace, openai_server):
    admin_client = admin_session_client
    workspace.plan = "free"
    workspace.save()
    AIDailyUsage.objects.create(
        workspace=workspace, day=usage.local_day(workspace, timezone.now()), requests=100
    )

    response = admin_client.post("/api/ai/chat", {"message": "Hola"}, format="json")

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "ai_quota_exceeded"
    assert openai_server.chat_requests == []


def test_chat_when_the_provider_fails_is_503(admin_client, openai_server):
    openai_server.then(Scripted(status=500))

    response = admin_client.post("/api/ai/chat", {"message": "Hola"}, format="json")

    assert response.status_code == 503
    assert response.json()["error"] == {
        "code": "ai_unavailable",
        "message": "The AI provider did not answer.",
        "details": {"code": "server_error"},
    }
    assert AIUsage.objects.get().succeeded is False


def test_agent_cannot_chat(agent_client):
    assert agent_client.post("/api/ai/chat", {"message": "Hola"}, format="json").status_code == 403
    assert AIUsage.objects.count() == 0
