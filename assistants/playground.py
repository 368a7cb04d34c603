"""The playground: ask an assistant (or the model itself) something, see what it would answer.

Answers exactly as the automatic reply would (assistants.replies), without a conversation and
without sending anything; every model call is recorded as ``playground`` usage and counts
against the plan quota like any other.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.utils import timezone

from accounts.models import User
from assistants import conf, llm, replies, usage
from assistants.models import AIUsage, Assistant
from assistants.schedule import assistant_on_duty
from flame.exceptions import ApplicationError

LOCAL_CHAT_NOTICE = (
    "The built-in local AI provider only answers from an assistant's knowledge base. "
    "Pick an assistant, or set OPENAI_API_KEY to chat with a model."
)


class AIQuotaExceededError(ApplicationError):
    status_code = 429
    default_code = "ai_quota_exceeded"


class AIUnavailableError(ApplicationError):
    status_code = 503
    default_code = "ai_unavailable"


@dataclass(frozen=True)
class PlaygroundAnswer:
    reply: str
    source: str
    error: str
    provider: str
    model: str
    on_duty: bool | None
    snippets: tuple
    completion: llm.Completion | None

    def as_dict(self) -> dict:
        completion = self.completion
        return {
            "reply": self.reply,
            "source": self.source,
            "error": self.error,
            "provider": self.provider,
            "model": self.model,
            "on_duty": self.on_duty,
            "snippets": [
                {"title": s.title, "content": s.content, "score": s.score} for s in self.snippets
            ],
            "usage": None
            if completion is None
            else {
                "prompt_tokens": completion.prompt_tokens,
                "completion_tokens": completion.completion_tokens,
                "cost": usage.usage_cost(
                    completion.model, completion.prompt_tokens, completion.completion_tokens
                ),
                "latency_ms": completion.latency_ms,
            },
        }


def _turns(message: str, history: list[dict] | None) -> tuple[llm.Turn, ...]:
    earlier = [
        llm.Turn(sender="user" if turn["role"] == "user" else "assistant", content=turn["content"])
        for turn in history or []
    ]
    return (*earlier, llm.Turn(sender="user", content=message))


def assistant_test(
    *, assistant: Assistant, message: str, history: list[dict] | None = None
) -> PlaygroundAnswer:
    answer = replies.answer_as(
        assistant=assistant, history=_turns(message, history), purpose=AIUsage.Purpose.PLAYGROUND
    )
    completion = answer.completion
    return PlaygroundAnswer(
        reply=answer.text,
        source=answer.source,
        error=answer.error,
        provider=completion.provider if completion else "",
        model=completion.model if completion else "",
        on_duty=assistant_on_duty(assistant, timezone.now()),
        snippets=answer.snippets,
        completion=completion,
    )


def _chat_request(message: str, history: list[dict] | None) -> llm.ReplyRequest:
    return llm.ReplyRequest(
        model=conf.default_model(),
        instructions=llm.CHAT_SYSTEM_PROMPT,
        history=_turns(message, history),
        grounded=False,
    )


def _chat_context(by: User) -> usage.CallContext:
    return usage.CallContext(workspace=by.workspace, purpose=AIUsage.Purpose.PLAYGROUND)


@contextmanager
def _as_api_errors() -> Iterator[None]:
    try:
        yield
    except usage.QuotaExceeded as exc:
        raise AIQuotaExceededError(str(exc)) from exc
    except llm.LLMError as exc:
        raise AIUnavailableError(
            "The AI provider did not answer.", details={"code": exc.code}
        ) from exc


def ai_chat(*, by: User, message: str, history: list[dict] | None = None) -> PlaygroundAnswer:
    """Talk to the configured model directly (no assistant, no knowledge)."""
    request = _chat_request(message, history)
    with _as_api_errors():
        completion = usage.ai_call(
            context=_chat_context(by),
            model=request.model,
            call=lambda provider: provider.reply(request),
        )
    return _chat_answer(completion)


def ai_chat_stream(
    *, by: User, message: str, history: list[dict] | None = None
) -> Iterator[str | PlaygroundAnswer]:
    """``ai_chat`` as the model writes it: text pieces, then the whole answer. The quota and
    the request are settled before this returns (429 and 503 as for ``ai_chat``); an
    LLMError raised while iterating means the answer broke off."""
    request = _chat_request(message, history)
    with _as_api_errors():
        pieces = usage.ai_stream(
            context=_chat_context(by),
            model=request.model,
            start=lambda provider: provider.reply_stream(request),
        )
    return _chat_pieces(pieces)


def _chat_pieces(pieces: Generator[str | llm.Completion]) -> Iterator[str | PlaygroundAnswer]:
    try:
        for piece in pieces:
            if not isinstance(piece, llm.Completion):
                yield piece
                continue
            answer = _chat_answer(piece)
            if answer.source == "notice":
                yield answer.reply  # the local provider has no model to stream
            yield answer
    finally:
        pieces.close()  # a reader that stops early stops the metered call too


def assistant_test_stream(
    *, assistant: Assistant, message: str, history: list[dict] | None = None
) -> Iterator[str | PlaygroundAnswer]:
    """An assistant's answer is decided whole (it may fall back to its fixed reply or hand
    off), so it arrives as one piece."""
    answer = assistant_test(assistant=assistant, message=message, history=history)
    return iter([answer.reply, answer] if answer.reply else [answer])


def _chat_answer(completion: llm.Completion) -> PlaygroundAnswer:
    local = completion.provider == llm.LocalProvider.name
    return PlaygroundAnswer(
        reply=LOCAL_CHAT_NOTICE if local else completion.content,
        source="notice" if local else "ai",
        error="",
        provider=completion.provider,
        model=completion.model,
        on_duty=None,
        snippets=(),
        completion=completion,
    )
