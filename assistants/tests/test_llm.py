"""assistants.llm against a real HTTP server speaking the OpenAI API (the real client)."""

from __future__ import annotations

import json

import pytest

from assistants import llm
from assistants.knowledge import Snippet
from assistants.tests.fake_openai import Scripted

FAST_RETRY = {"retry-after-ms": "1"}  # the client honours it: retries without real backoff


def _request(**overrides) -> llm.ReplyRequest:
    values = {
        "model": "gpt-4o-mini",
        "instructions": "Eres el asistente de la Pastelería.",
        "history": (
            llm.Turn("user", "Hola"),
            llm.Turn("assistant", "¡Hola! ¿En qué te ayudo?"),
            llm.Turn("agent", "Soy Ana del equipo."),
            llm.Turn("user", "¿Hacen envíos?"),
        ),
        "snippets": (Snippet(title="Envíos", content="Enviamos a todo México.", score=0.5),),
        "temperature": 0.3,
        "max_tokens": 120,
    }
    return llm.ReplyRequest(**{**values, **overrides})


def test_provider_is_local_without_a_key(settings):
    settings.OPENAI_API_KEY = ""

    assert llm.provider().name == "local"


def test_reply_sends_prompt_history_snippets_and_model_settings(openai_server):
    completion = llm.provider().reply(_request())

    sent = openai_server.chat_requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test-key"
    assert (sent.body["model"], sent.body["temperature"], sent.body["max_tokens"]) == (
        "gpt-4o-mini",
        0.3,
        120,
    )
    assert sent.system_prompt.startswith("Eres el asistente de la Pastelería.\n\n")
    assert "[1] Envíos\nEnviamos a todo México." in sent.system_prompt
    assert sent.messages[1:] == [
        {"role": "user", "content": "Hola"},
        {"role": "assistant", "content": "¡Hola! ¿En qué te ayudo?"},
        {"role": "assistant", "content": "Soy Ana del equipo."},
        {"role": "user", "content": "¿Hacen envíos?"},
    ]
    assert (completion.content, completion.provider, completion.model) == (
        "¡Hola! Claro, con gusto te ayudo.",
        "openai",
        "gpt-4o-mini",
    )
    assert (completion.prompt_tokens, completion.completion_tokens) == (42, 8)


def test_reply_without_snippets_has_no_knowledge_section(openai_server):
    llm.provider().reply(_request(snippets=()))

    assert "Business knowledge" not in openai_server.chat_requests[0].system_prompt


def test_analysis_asks_for_json(openai_server):
    request = llm.AnalysisRequest(
        model="gpt-4o-mini", transcript=(llm.Turn("user", "Mi pedido llegó roto"),)
    )

    llm.provider().analyze(request)

    body = openai_server.chat_requests[0].body
    assert body["response_format"] == {"type": "json_object"}
    assert (body["temperature"], body["max_tokens"]) == (0.2, 300)
    assert body["messages"][1] == {"role": "user", "content": "Customer: Mi pedido llegó roto"}
    assert '"priority"' in body["messages"][0]["content"]


@pytest.mark.parametrize(("status", "code"), [(429, "rate_limited"), (500, "server_error")])
def test_http_errors_become_llm_errors(openai_server, status, code):
    openai_server.then(Scripted(status=status, headers=FAST_RETRY))

    with pytest.raises(llm.LLMError) as caught:
        llm.provider().reply(_request())

    assert caught.value.code == code
    assert len(openai_server.chat_requests) == 1  # OPENAI_MAX_RETRIES=0


def test_auth_error_is_reported_as_such(openai_server):
    openai_server.then(Scripted(status=401))

    with pytest.raises(llm.LLMError) as caught:
        llm.provider().reply(_request())

    assert caught.value.code == "auth_error"


def test_timeout_is_enforced(openai_server, settings):
    settings.OPENAI_TIMEOUT_SECONDS = 0.3
    openai_server.then(Scripted(delay=1.5))

    with pytest.raises(llm.LLMError) as caught:
        llm.provider().reply(_request())

    assert caught.value.code == "timeout"
    assert caught.value.latency_ms >= 300


def test_retryable_errors_are_retried_up_to_the_limit(openai_server, settings):
    settings.OPENAI_MAX_RETRIES = 2
    openai_server.then(
        Scripted(status=429, headers=FAST_RETRY),
        Scripted(status=500, headers=FAST_RETRY),
        Scripted(content="Por fin"),
    )

    completion = llm.provider().reply(_request())

    assert completion.content == "Por fin"
    assert len(openai_server.chat_requests) == 3


def test_retries_are_bounded(openai_server, settings):
    settings.OPENAI_MAX_RETRIES = 1
    openai_server.then(*[Scripted(status=503, headers=FAST_RETRY) for _ in range(3)])

    with pytest.raises(llm.LLMError):
        llm.provider().reply(_request())

    assert len(openai_server.chat_requests) == 2


def test_base_url_points_anywhere_compatible(openai_server, settings):
    settings.OPENAI_BASE_URL = openai_server.base_url.replace("127.0.0.1", "localhost")

    assert llm.provider().reply(_request()).content == "¡Hola! Claro, con gusto te ayudo."


# --- local provider ----------------------------------------------------------------------------


def test_local_reply_answers_with_the_best_snippet_above_the_threshold(settings):
    settings.KNOWLEDGE_MATCH_THRESHOLD = 0.5
    snippets = (
        Snippet(title="Pagos", content="Tarjeta.", score=0.34),
        Snippet(title="Envíos", content="A todo México.", score=0.67),
    )

    completion = llm.LocalProvider().reply(_request(snippets=snippets))

    assert (completion.content, completion.provider) == ("A todo México.", "local")
    assert completion.prompt_tokens > 0


def test_local_reply_is_empty_below_the_threshold(settings):
    settings.KNOWLEDGE_MATCH_THRESHOLD = 0.5
    snippets = (Snippet(title="Pagos", content="Tarjeta.", score=0.34),)

    assert llm.LocalProvider().reply(_request(snippets=snippets)).content == ""


def test_local_analysis_uses_keywords():
    transcript = (
        llm.Turn("user", "Mi pedido llegó dañado y quiero un reembolso"),
        llm.Turn("agent", "Lo sentimos mucho"),
    )

    result = json.loads(
        llm.LocalProvider().analyze(llm.AnalysisRequest("local", transcript)).content
    )

    assert result["priority"] == "high"
    assert result["tags"] == ["order", "complaint", "refund"]
    assert result["summary"] == "Mi pedido llegó dañado y quiero un reembolso"
