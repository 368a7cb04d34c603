""" "Suggest a reply": a draft of the next answer for the agent, from the conversation and the
knowledge of its assistant (the conversation's, else its channel's). The agent edits and sends
it; nothing here sends anything. The call is metered like every other (``usage.ai_call``:
quota first, an AIUsage row of purpose ``suggestion`` after).
"""

from __future__ import annotations

from dataclasses import dataclass

from assistants import conf, llm, replies, selectors, usage
from assistants.models import AIUsage, Assistant
from assistants.playground import AIQuotaExceededError, AIUnavailableError
from conversations.models import Conversation
from flame.exceptions import ConflictError

SUGGESTION = AIUsage.Purpose.SUGGESTION

DRAFT_INSTRUCTIONS = (
    "You draft the next reply a customer-service agent will send in this conversation. Write "
    "only the reply itself, ready to send, in the customer's language; the agent reviews it."
)


@dataclass(frozen=True)
class Suggestion:
    text: str
    source: str  # "ai", "knowledge" (the local provider's best snippet) or "none"
    assistant_id: str | None

    def as_dict(self) -> dict:
        return {"text": self.text, "source": self.source, "assistant_id": self.assistant_id}


def _request(assistant: Assistant | None, history: tuple[llm.Turn, ...]) -> llm.ReplyRequest:
    if assistant is None:
        return llm.ReplyRequest(
            model=conf.default_model(), instructions=DRAFT_INSTRUCTIONS, history=history
        )
    return llm.ReplyRequest(
        model=assistant.model or conf.default_model(),
        instructions=f"{DRAFT_INSTRUCTIONS}\n\n{assistant.ai_prompt}".strip(),
        history=history,
        snippets=replies.knowledge_for(assistant, history),
        temperature=assistant.temperature,
        max_tokens=assistant.max_tokens,
    )


def reply_suggest(*, conversation: Conversation) -> Suggestion:
    """Draft the agent's next reply (never inside a transaction: the model may take seconds)."""
    history, _newest = selectors.conversation_turns(
        conversation_id=conversation.pk, limit=conf.auto_reply_history_messages()
    )
    if not any(turn.sender == "user" for turn in history):
        raise ConflictError("The customer has not written yet.", code="nothing_to_answer")
    assistant = selectors.assistant_for_conversation(conversation)
    request = _request(assistant, history)
    context = usage.CallContext(
        workspace=conversation.workspace,
        purpose=SUGGESTION,
        assistant=assistant,
        conversation=conversation,
    )
    try:
        completion = usage.ai_call(
            context=context, model=request.model, call=lambda provider: provider.reply(request)
        )
    except usage.QuotaExceeded as exc:
        raise AIQuotaExceededError(str(exc)) from exc
    except llm.LLMError as exc:
        raise AIUnavailableError(
            "The AI provider did not answer.", details={"code": exc.code}
        ) from exc
    local = completion.provider == llm.LocalProvider.name
    text = completion.content[: replies.MAX_REPLY_CHARS]
    source = ("knowledge" if local else "ai") if text else "none"
    return Suggestion(
        text=text, source=source, assistant_id=str(assistant.pk) if assistant else None
    )
