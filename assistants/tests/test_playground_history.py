"""The playground's history (``GET /api/ai/conversations``) and streamed answers
(``POST /api/ai/chat`` with ``"stream": true``: server-sent events, metered like any call)."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from assistants import usage
from assistants.models import AIDailyUsage, AIUsage, PlaygroundConversation, PlaygroundMessage
from assistants.tests.factories import AssistantFactory
from assistants.tests.fake_openai import Scripted
from conftest import api_client_for

pytestmark = pytest.mark.django_db


def _chat(client, **body):
    return client.post("/api/ai/chat", {"message": "Hola", **body}, format="json")


def _events(response) -> list[tuple[str, dict]]:
    text = b"".join(response.streaming_content).decode()
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


# --- history ------------------------------------------------------------------------------------


def test_each_chat_is_kept_and_listed(admin_client, openai_server):
    answer = _chat(admin_client, message="¿Qué horario tienen?").json()

    listed = admin_client.get("/api/ai/conversations").json()["results"]

    (conversation,) = listed
    assert conversation["id"] == answer["conversation_id"]
    assert conversation["title"] == "¿Qué horario tienen?"
    assert (conversation["assistant_id"], conversation["message_count"]) == (None, 2)
    detail = admin_client.get(f"/api/ai/conversations/{answer['conversation_id']}").json()
    assert [(m["role"], m["content"], m["source"]) for m in detail["messages"]] == [
        ("user", "¿Qué horario tienen?", ""),
        ("assistant", "¡Hola! Claro, con gusto te ayudo.", "ai"),
    ]


def test_going_on_with_a_conversation_sends_its_history(admin_client, openai_server):
    first = _chat(admin_client, message="Me llamo Ana").json()
    openai_server.then(Scripted(content="Te llamas Ana."))

    second = _chat(
        admin_client, message="¿Cómo me llamo?", conversation_id=first["conversation_id"]
    )

    assert second.json()["conversation_id"] == first["conversation_id"]
    assert second.json()["reply"] == "Te llamas Ana."
    sent = openai_server.chat_requests[-1].messages
    assert [(m["role"], m["content"]) for m in sent[1:]] == [
        ("user", "Me llamo Ana"),
        ("assistant", "¡Hola! Claro, con gusto te ayudo."),
        ("user", "¿Cómo me llamo?"),
    ]
    assert PlaygroundMessage.objects.count() == 4
    assert PlaygroundConversation.objects.count() == 1


def test_an_assistant_s_conversation_keeps_answering_as_that_assistant(admin_client, workspace):
    assistant = AssistantFactory(workspace=workspace, auto_response="Te atendemos enseguida.")
    first = _chat(admin_client, assistant_id=str(assistant.pk)).json()

    again = _chat(admin_client, conversation_id=first["conversation_id"]).json()

    assert (first["reply"], again["reply"]) == ("Te atendemos enseguida.",) * 2
    listed = admin_client.get("/api/ai/conversations").json()["results"]
    assert listed[0]["assistant_id"] == str(assistant.pk)


def test_a_conversation_is_its_member_s_alone(admin_client, admin_user, workspace, outsider_client):
    colleague = api_client_for(
        admin_user.__class__.objects.create_user(
            email="colega@a.example", name="Colega", role="admin", workspace=workspace
        )
    )
    mine = _chat(admin_client).json()["conversation_id"]

    for client in (colleague, outsider_client):
        assert client.get("/api/ai/conversations").json()["results"] == []
        assert client.get(f"/api/ai/conversations/{mine}").status_code == 404
        response = _chat(client, conversation_id=mine)
        assert response.status_code == 400
        assert response.json()["error"]["details"] == {"conversation_id": ["Not found."]}
    assert PlaygroundMessage.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"conversation_id": "not-a-uuid"}, "conversation_id"),
        (
            {
                "conversation_id": "7d3c2d6a-3e9f-4b1e-9f3a-2d2f2a0c1b11",
                "history": [{"role": "user", "content": "x"}],
            },
            "history",
        ),
        ({"stream": "sometimes"}, "stream"),
    ],
)
def test_bad_chat_input_is_a_400_and_keeps_nothing(admin_client, body, field):
    response = _chat(admin_client, **body)

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert PlaygroundConversation.objects.count() == 0


def test_a_quota_refusal_keeps_nothing(admin_client, workspace, openai_server, settings):
    settings.AI_PLAN_LIMITS = {"pro": {"requests": 0, "tokens": 10}}

    response = _chat(admin_client)

    assert response.status_code == 429
    assert PlaygroundConversation.objects.count() == 0


# --- streamed answers ----------------------------------------------------------------------------


def test_a_streamed_answer_arrives_in_pieces_and_is_metered(admin_client, workspace, openai_server):
    openai_server.then(
        Scripted(content="Abrimos de nueve a seis.", prompt_tokens=30, completion_tokens=7)
    )

    response = _chat(admin_client, message="¿Horario?", stream=True)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache"
    events = _events(response)
    assert [data["content"] for kind, data in events if kind == "delta"] == [
        "Abrimos",
        " de",
        " nueve",
        " a",
        " seis.",
    ]
    kind, done = events[-1]
    assert kind == "done"
    assert (done["reply"], done["source"], done["provider"]) == (
        "Abrimos de nueve a seis.",
        "ai",
        "openai",
    )
    assert (done["usage"]["prompt_tokens"], done["usage"]["completion_tokens"]) == (30, 7)
    assert openai_server.chat_requests[0].body["stream_options"] == {"include_usage": True}
    # counted like any other call: one request and its tokens, one AIUsage row
    ledger = AIDailyUsage.objects.get()
    assert (ledger.requests, ledger.tokens) == (1, 37)
    row = AIUsage.objects.get()
    assert (row.purpose, row.prompt_tokens, row.completion_tokens, row.succeeded) == (
        "playground",
        30,
        7,
        True,
    )
    kept = PlaygroundConversation.objects.get(pk=done["conversation_id"])
    assert [m.content for m in kept.messages.all()] == ["¿Horario?", "Abrimos de nueve a seis."]


def test_a_stream_over_quota_is_a_429_before_any_event(admin_client, workspace, openai_server):
    workspace.plan = "starter"
    workspace.save()
    AIDailyUsage.objects.create(
        workspace=workspace, day=usage.local_day(workspace, timezone.now()), requests=1_000
    )

    response = _chat(admin_client, stream=True)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "ai_quota_exceeded"
    assert openai_server.chat_requests == []
    assert PlaygroundConversation.objects.count() == 0


def test_a_provider_that_refuses_the_stream_is_a_503(admin_client, openai_server):
    openai_server.then(Scripted(status=500))

    response = _chat(admin_client, stream=True)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "ai_unavailable"
    assert AIUsage.objects.get().succeeded is False
    assert PlaygroundConversation.objects.count() == 0


def test_the_local_provider_streams_its_notice(admin_client):
    events = _events(_chat(admin_client, stream=True))

    assert [kind for kind, _ in events] == ["delta", "done"]
    assert events[0][1]["content"].startswith("The built-in local AI provider")
    assert events[1][1]["source"] == "notice"


def test_an_assistant_s_answer_streams_whole(admin_client, workspace):
    assistant = AssistantFactory(workspace=workspace, auto_response="Te atendemos enseguida.")

    events = _events(_chat(admin_client, assistant_id=str(assistant.pk), stream=True))

    assert events[0] == ("delta", {"content": "Te atendemos enseguida."})
    assert events[1][0] == "done"
    assert events[1][1]["source"] == "auto_response"
