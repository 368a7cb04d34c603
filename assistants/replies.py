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
MAX_QUERIES_PER_BURST = 3


@dataclass(frozen=True)
class Answer:
    text: str
    source: str  # "auto_response" | "ai" | "knowledge" | "handoff"
    error: str = ""
    snippets: tuple[Snippet, ...] = ()
    completion: llm.Completion | None = None


def burst(history: tuple[llm.Turn, ...]) -> list[str]:
    """The customer's messages since the last answer, oldest first."""
    messages: list[str] = []
    for turn in reversed(history):
        if turn.sender != "user":
            break
        messages.append(turn.content)
    return messages[::-1]


def knowledge_for(assistant: Assistant, history: tuple[llm.Turn, ...]) -> tuple[Snippet, ...]:
    """The best snippets for the burst as a whole and for each of its last messages.

    A burst is often "Hola" / "una pregunta" / "¿Hacen envíos?": scored as one text the filler
    dilutes the real question, so each recent message is also matched on its own and every
    snippet keeps its best score.
    """
    messages = burst(history)
    queries = dict.fromkeys(["\n".join(messages), *messages[-MAX_QUERIES_PER_BURST:]])
    limit = conf.knowledge_snippets()
    best: dict[tuple[str, str], Snippet] = {}
    for query in queries:
        for snippet in selectors.knowledge_search(assistant=assistant, query=query, limit=limit):
            key = (snippet.document_id, snippet.content)
            if key not in best or best[key].score < snippet.score:
                best[key] = snippet
    return tuple(sorted(best.values(), key=lambda s: -s.score)[:limit])


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
    snippets = knowledge_for(assistant, history)
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
