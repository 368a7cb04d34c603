"""What an assistant says to a conversation: one strategy per assistant type, one fallback.

Shared by the automatic reply and the playground, so the playground answers exactly as the
assistant would. Runs outside any transaction (an AI answer is a network call); the metered
call records its AIUsage row itself.

- ``auto``: the fixed ``auto_response``.
- ``ai``: the LLM with ``ai_prompt`` as system prompt, the recent history and the best
  knowledge snippets for the customer's latest messages.
- Fallback (LLM error, quota used up, no answer): ``auto_response``; with none, the caller
  hands the conversation to the agents (``source == "handoff"``, empty text).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from assistants import conf, llm, selectors, usage
from assistants.knowledge import Snippet
from assistants.models import Assistant

logger = logging.getLogger(__name__)

# Channels cap message length (WhatsApp: 4096); an over-long model answer is cut, not refused.
MAX_REPLY_CHARS = 4096


@dataclass(frozen=True)
class Answer:
    text: str
    source: str  # "auto_response" | "ai" | "knowledge" | "handoff"
    error: str = ""
    snippets: tuple[Snippet, ...] = ()
    completion: llm.Completion | None = None


def burst_text(history: tuple[llm.Turn, ...]) -> str:
    """The customer's messages since the last answer: what the retrieval should match."""
    burst: list[str] = []
    for turn in reversed(history):
        if turn.sender != "user":
            break
        burst.append(turn.content)
    return "\n".join(reversed(burst))


def fallback(assistant: Assistant, *, error: str, snippets: tuple[Snippet, ...] = ()) -> Answer:
    text = assistant.auto_response.strip()
    logger.info(
        "Assistant falls back",
        extra={"assistant_id": str(assistant.pk), "code": error, "handoff": not text},
    )
    return Answer(
        text=text, source="auto_response" if text else "handoff", error=error, snippets=snippets
    )


def _ai_answer(
    assistant: Assistant, history: tuple[llm.Turn, ...], context: usage.CallContext
) -> Answer:
    snippets = tuple(
        selectors.knowledge_search(
            assistant=assistant, query=burst_text(history), limit=conf.knowledge_snippets()
        )
    )
    request = llm.ReplyRequest(
        model=assistant.model or conf.default_model(),
        instructions=assistant.ai_prompt,
        history=history,
        snippets=snippets,
        temperature=assistant.temperature,
        max_tokens=assistant.max_tokens,
    )
    try:
        completion = usage.ai_call(
            context=context, model=request.model, call=lambda provider: provider.reply(request)
        )
    except llm.LLMError as exc:
        return fallback(assistant, error=exc.code, snippets=snippets)
    if not completion.content:
        error = "no_match" if completion.provider == llm.LocalProvider.name else "empty_response"
        return fallback(assistant, error=error, snippets=snippets)
    source = "knowledge" if completion.provider == llm.LocalProvider.name else "ai"
    return Answer(
        text=completion.content[:MAX_REPLY_CHARS],
        source=source,
        snippets=snippets,
        completion=completion,
    )


def answer_as(
    *, assistant: Assistant, history: tuple[llm.Turn, ...], purpose: str, conversation=None
) -> Answer:
    if assistant.type != Assistant.Type.AI:
        text = assistant.auto_response.strip()
        return Answer(text=text, source="auto_response" if text else "handoff")
    context = usage.CallContext(
        workspace=assistant.workspace,
        purpose=purpose,
        assistant=assistant,
        conversation=conversation,
    )
    return _ai_answer(assistant, history, context)
