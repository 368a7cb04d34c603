"""Every LLM call of the product goes through this module.

Two providers with one interface (``reply``, ``analyze``):

- ``OpenAIProvider``: the official ``openai`` client against ``OPENAI_BASE_URL`` (OpenAI or any
  OpenAI-compatible server: Azure, Ollama, vLLM), with an explicit timeout and bounded
  retries (the client retries 408/409/429/5xx and connection errors with backoff and honours
  ``Retry-After``). Failures surface as :class:`LLMError` with a stable ``code``.
- ``LocalProvider``: used when ``OPENAI_API_KEY`` is unset. Answers with the best knowledge
  snippet above KNOWLEDGE_MATCH_THRESHOLD (an empty answer means "no match", and the caller
  falls back to the assistant's fixed reply) and analyses with keyword heuristics. No network,
  so the product works offline and in tests.

This module never touches the database: callers hold no transaction while it runs, check the
quota before and record usage after (assistants.services).
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import openai

from assistants import conf
from assistants.knowledge import Snippet
from flame.text import fold

logger = logging.getLogger(__name__)

ANALYSIS_TEMPERATURE = 0.2
ANALYSIS_MAX_TOKENS = 300
CHAT_SYSTEM_PROMPT = "You are a helpful assistant for a customer-service team. Be concise."

KNOWLEDGE_INSTRUCTIONS = (
    "Answer in the customer's language. Use the business knowledge below when it is relevant; "
    "do not invent prices, dates or policies that it does not contain. If you cannot answer, "
    "say that a person from the team will follow up."
)

ANALYSIS_INSTRUCTIONS = (
    "You analyse customer-service conversations. Reply with one JSON object and nothing else: "
    '{"summary": "<at most 200 characters, in the language of the conversation>", '
    '"priority": "low" | "medium" | "high" | "urgent", '
    '"tags": ["<up to 5 short lower-case topic tags>"]}. '
    "Priority: urgent for emergencies or legal threats, high for complaints, damaged or missing "
    "orders and payment problems, low for thanks and small talk, otherwise medium."
)

SPEAKERS = {"user": "Customer", "agent": "Agent", "assistant": "Assistant"}


class LLMError(Exception):
    """A call that produced no usable answer. ``code`` is stable (logged, stored in AIUsage)."""

    def __init__(self, code: str, message: str = "", *, latency_ms: int = 0) -> None:
        super().__init__(message or code)
        self.code = code
        self.latency_ms = latency_ms


@dataclass(frozen=True)
class Turn:
    """One message of a conversation as the model sees it. ``sender`` as in Message.Sender."""

    sender: str
    content: str

    @property
    def role(self) -> str:
        return "user" if self.sender == "user" else "assistant"


@dataclass(frozen=True)
class ReplyRequest:
    model: str
    instructions: str
    history: tuple[Turn, ...]
    snippets: tuple[Snippet, ...] = ()
    temperature: float = 0.7
    max_tokens: int = 500
    # False for the free-form playground chat: no customer-service grounding instructions.
    grounded: bool = True


@dataclass(frozen=True)
class AnalysisRequest:
    model: str
    transcript: tuple[Turn, ...]


@dataclass(frozen=True)
class Completion:
    content: str
    provider: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0


# --- prompts (shared by providers so the local one could log what it would have sent) --------


def reply_system_prompt(request: ReplyRequest) -> str:
    parts = [request.instructions.strip()]
    if request.grounded:
        parts.append(KNOWLEDGE_INSTRUCTIONS)
    if request.snippets:
        entries = "\n\n".join(
            f"[{n}] {snippet.title}\n{snippet.content}"
            for n, snippet in enumerate(request.snippets, start=1)
        )
        parts.append(f"Business knowledge:\n\n{entries}")
    return "\n\n".join(part for part in parts if part)


def reply_messages(request: ReplyRequest) -> list[dict[str, str]]:
    history = [{"role": turn.role, "content": turn.content} for turn in request.history]
    return [{"role": "system", "content": reply_system_prompt(request)}, *history]


def transcript_text(transcript: tuple[Turn, ...]) -> str:
    return "\n".join(f"{SPEAKERS.get(t.sender, t.sender)}: {t.content}" for t in transcript)


def analysis_messages(request: AnalysisRequest) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": ANALYSIS_INSTRUCTIONS},
        {"role": "user", "content": transcript_text(request.transcript)},
    ]


# --- OpenAI-compatible provider ------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _client(api_key: str, base_url: str | None, timeout: float, max_retries: int):
    # One client (and its connection pool) per configuration, reused across calls.
    return openai.OpenAI(
        api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
    )


def _configured_client():
    return _client(
        conf.openai_api_key(),
        conf.openai_base_url(),
        conf.openai_timeout_seconds(),
        conf.openai_max_retries(),
    )


def _error_code(exc: openai.OpenAIError) -> str:
    checks = (
        (openai.APITimeoutError, "timeout"),
        (openai.APIConnectionError, "connection_error"),
        (openai.RateLimitError, "rate_limited"),
        (openai.AuthenticationError, "auth_error"),
        (openai.PermissionDeniedError, "auth_error"),
        (openai.NotFoundError, "model_not_found"),
        (openai.BadRequestError, "bad_request"),
        (openai.InternalServerError, "server_error"),
        (openai.APIResponseValidationError, "bad_response"),
    )
    for kind, code in checks:
        if isinstance(exc, kind):
            return code
    status = getattr(exc, "status_code", None)
    return "server_error" if status and status >= 500 else "api_error"


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


class OpenAIProvider:
    name = "openai"
    metered = True  # counts against the workspace's plan quota

    def reply(self, request: ReplyRequest) -> Completion:
        return self._complete(
            model=request.model,
            messages=reply_messages(request),
            temperature=request.temperature,
            max_tokens=request.max_tokens,
        )

    def reply_stream(self, request: ReplyRequest) -> Iterator[str | Completion]:
        """The answer as the model writes it: text pieces, then the Completion (with usage).

        The request is sent here, before anything is returned, so a refusal or a server that
        is away is an LLMError before the first piece; a failure later is raised by the
        iterator.
        """
        started = time.monotonic()
        try:
            stream = _configured_client().chat.completions.create(
                model=request.model,
                messages=reply_messages(request),
                temperature=request.temperature,
                max_tokens=request.max_tokens,
                stream=True,
                stream_options={"include_usage": True},
            )
        except openai.OpenAIError as exc:
            raise self._failure(exc, request.model, started) from exc
        return self._pieces(stream, request, started)

    def _pieces(self, stream, request: ReplyRequest, started: float) -> Iterator[str | Completion]:
        parts: list[str] = []
        usage, model = None, request.model
        try:
            for chunk in stream:
                model = chunk.model or model
                usage = chunk.usage or usage
                for choice in chunk.choices:
                    if choice.delta and choice.delta.content:
                        parts.append(choice.delta.content)
                        yield choice.delta.content
        except openai.OpenAIError as exc:
            raise self._failure(exc, model, started) from exc
        finally:
            stream.close()
        content = "".join(parts).strip()
        yield Completion(
            content=content,
            provider=self.name,
            model=model,
            # A server that ignores include_usage: counted as the local provider estimates.
            prompt_tokens=usage.prompt_tokens if usage else _prompt_estimate(request),
            completion_tokens=usage.completion_tokens if usage else estimate_tokens(content),
            latency_ms=_elapsed_ms(started),
        )

    def _failure(self, exc: openai.OpenAIError, model: str, started: float) -> LLMError:
        code = _error_code(exc)
        logger.warning("LLM call failed", extra={"code": code, "model": model})
        return LLMError(code, str(exc), latency_ms=_elapsed_ms(started))

    def analyze(self, request: AnalysisRequest) -> Completion:
        return self._complete(
            model=request.model,
            messages=analysis_messages(request),
            temperature=ANALYSIS_TEMPERATURE,
            max_tokens=ANALYSIS_MAX_TOKENS,
            response_format={"type": "json_object"},
        )

    def _complete(self, *, model: str, messages: list[dict], **options) -> Completion:
        started = time.monotonic()
        try:
            response = _configured_client().chat.completions.create(
                model=model, messages=messages, **options
            )
        except openai.OpenAIError as exc:
            raise self._failure(exc, model, started) from exc
        return self._completion(response, model=model, latency_ms=_elapsed_ms(started))

    def _completion(self, response, *, model: str, latency_ms: int) -> Completion:
        choice = response.choices[0] if response.choices else None
        content = (choice.message.content or "").strip() if choice else ""
        usage = response.usage
        return Completion(
            content=content,
            provider=self.name,
            model=response.model or model,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            latency_ms=latency_ms,
        )


# --- local provider ------------------------------------------------------------------------------


def estimate_tokens(text: str) -> int:
    """~4 characters per token: good enough to show local usage next to metered usage."""
    return max(1, len(text) // 4) if text else 0


def _prompt_estimate(request: ReplyRequest) -> int:
    return estimate_tokens("\n".join(message["content"] for message in reply_messages(request)))


PRIORITY_KEYWORDS = {
    "urgent": ("urgente", "urgent", "emergencia", "emergency", "asap", "inmediato", "abogado"),
    "high": (
        "dañado",
        "danado",
        "damaged",
        "roto",
        "broken",
        "queja",
        "complaint",
        "reembolso",
        "refund",
        "cancelar",
        "cancel",
        "no llego",
        "never arrived",
        "not working",
        "no funciona",
        "ruined",
        "arruinado",
    ),
}

TAG_KEYWORDS = {
    "shipping": ("envio", "envia", "shipping", "delivery", "entrega", "domicilio"),
    "billing": ("factura", "invoice", "rfc", "billing", "cobro", "charge"),
    "payment": ("pago", "pagar", "tarjeta", "payment", "card", "transferencia"),
    "pricing": ("precio", "cuesta", "costo", "price", "cost", "how much", "cuanto"),
    "hours": ("horario", "abren", "cierran", "hours", "open", "close"),
    "order": ("pedido", "orden", "order", "compra", "purchase"),
    "complaint": ("queja", "complaint", "damaged", "dañado", "danado", "roto", "ruined"),
    "refund": ("reembolso", "refund", "devolucion", "return"),
}


@functools.cache
def _keywords_pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    """One alternation per keyword list, compiled once (analyses run per conversation, in
    chunks of fifty under a burst)."""
    return re.compile(r"\b(?:" + "|".join(re.escape(fold(word)) for word in keywords) + ")")


def _keyword_hits(text: str, keywords: tuple[str, ...]) -> bool:
    """Whether a word of ``text`` starts with one of ``keywords`` (both folded)."""
    return _keywords_pattern(keywords).search(text) is not None


def heuristic_analysis(transcript: tuple[Turn, ...]) -> dict:
    customer = [t.content for t in transcript if t.sender == "user" and t.content]
    text = fold(" ".join(customer))
    priority = "medium"
    for level in ("urgent", "high"):
        if _keyword_hits(text, PRIORITY_KEYWORDS[level]):
            priority = level
            break
    tags = [tag for tag, words in TAG_KEYWORDS.items() if _keyword_hits(text, words)][:5]
    summary = " / ".join(customer[-3:]) or "(no customer messages)"
    if len(summary) > 200:
        summary = summary[:199] + "…"
    return {"summary": summary, "priority": priority, "tags": tags}


class LocalProvider:
    name = "local"
    metered = False  # no network, no cost: the plan quota does not apply
    model = "local"

    def reply(self, request: ReplyRequest) -> Completion:
        best = max(request.snippets, key=lambda s: s.score, default=None)
        threshold = conf.knowledge_match_threshold()
        answer = best.content if best is not None and best.score >= threshold else ""
        return self._completion(reply_messages(request), answer)

    def reply_stream(self, request: ReplyRequest) -> Iterator[str | Completion]:
        """Nothing to wait for: the whole answer as one piece, then the Completion."""
        completion = self.reply(request)
        return iter([completion.content, completion] if completion.content else [completion])

    def analyze(self, request: AnalysisRequest) -> Completion:
        answer = json.dumps(heuristic_analysis(request.transcript), ensure_ascii=False)
        return self._completion(analysis_messages(request), answer)

    def _completion(self, messages: list[dict], answer: str) -> Completion:
        prompt = "\n".join(message["content"] for message in messages)
        return Completion(
            content=answer,
            provider=self.name,
            model=self.model,
            prompt_tokens=estimate_tokens(prompt),
            completion_tokens=estimate_tokens(answer),
        )


def provider() -> OpenAIProvider | LocalProvider:
    return OpenAIProvider() if conf.openai_api_key() else LocalProvider()


def provider_name() -> str:
    return provider().name
