"""Writes of the assistants app: assistants, schedules, knowledge, training, and the hook that
ingestion calls for every new customer message.

The automatic reply lives in assistants/auto_reply.py, the conversation analysis in
assistants/analysis.py, metered LLM calls in assistants/usage.py, the playground in
assistants/playground.py; all follow the same rules (keyword-only, one transaction each,
domain exceptions, no network call inside a transaction).
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from django.contrib.postgres.search import SearchVector
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from accounts import audit
from accounts.models import User
from assistants import conf, knowledge
from assistants.models import (
    Assistant,
    AutoReplyJob,
    KnowledgeChunk,
    KnowledgeDocument,
    PlaygroundConversation,
    PlaygroundMessage,
    Schedule,
)
from conversations.models import Message
from flame.exceptions import InvalidInput
from flame.text import fold

# --- assistants ----------------------------------------------------------------------------------


def _allowed(data: dict[str, Any], names) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key in names}


def _save_changes(instance, changes: dict[str, Any]):
    """Set ``changes`` on ``instance`` and save exactly those fields (and updated_at)."""
    for name, value in changes.items():
        setattr(instance, name, value)
    instance.save(update_fields=[*sorted(changes), "updated_at"])
    return instance


def assistant_validate(values: dict[str, Any]) -> None:
    """The rules of a complete assistant (create, or an update merged onto the stored one)."""
    errors: dict[str, list[str]] = {}
    if values.get("type") == Assistant.Type.AUTO and not values.get("auto_response", "").strip():
        errors["auto_response"] = ["A fixed-reply assistant needs auto_response."]
    if values.get("type") == Assistant.Type.AI and not values.get("ai_prompt", "").strip():
        errors["ai_prompt"] = ["An AI assistant needs ai_prompt."]
    if values.get("status") == Assistant.Status.TRAINING:
        errors["status"] = ["Training is started with POST /train."]
    if errors:
        raise InvalidInput("Invalid input.", details=errors)


def _current_values(assistant: Assistant) -> dict[str, Any]:
    return {name: getattr(assistant, name) for name in Assistant.EDITABLE_FIELDS}


@transaction.atomic
def assistant_create(*, by: User, data: dict[str, Any]) -> Assistant:
    assistant = Assistant(
        workspace_id=by.member_workspace_id, **_allowed(data, Assistant.EDITABLE_FIELDS)
    )
    assistant_validate(_current_values(assistant))
    assistant.save()
    _audit(
        audit.ASSISTANT_CREATED,
        assistant,
        by=by,
        fields=sorted(_allowed(data, Assistant.EDITABLE_FIELDS)),
    )
    return assistant


def _audit(action: str, assistant: Assistant, *, by: User | None, **data: Any) -> None:
    """Settings changes name the fields; a status, type or name also says its new value (the
    prompt and the replies are text, not settings to compare)."""
    audit.record(
        action=action,
        workspace_id=assistant.workspace_id,
        actor=by,
        target=("assistant", assistant.pk),
        data={"name": assistant.name, **data},
    )


def _changed_fields(assistant: Assistant, changes: dict[str, Any]) -> list[str]:
    return sorted(name for name, value in changes.items() if getattr(assistant, name) != value)


@transaction.atomic
def assistant_update(*, assistant: Assistant, data: dict[str, Any]) -> Assistant:
    changes = _allowed(data, Assistant.EDITABLE_FIELDS)
    if changes.get("status") == assistant.status:
        changes.pop("status")  # re-sending the current status (even "training") is harmless
    values = {**_current_values(assistant), **changes}
    if "status" not in changes:
        values.pop("status")  # the stored status (training, say) is not being set by this edit
    assistant_validate(values)
    fields = _changed_fields(assistant, changes)
    if fields:
        shown = {name: changes[name] for name in ("status", "type", "name") if name in fields}
        _audit(audit.ASSISTANT_UPDATED, assistant, by=audit.request_user(), fields=fields, **shown)
    return _save_changes(assistant, changes)


@transaction.atomic
def assistant_delete(*, assistant: Assistant) -> None:
    _audit(audit.ASSISTANT_DELETED, assistant, by=audit.request_user())
    assistant.delete()


# --- schedules -----------------------------------------------------------------------------------

SCHEDULE_FIELDS = ("day_of_week", "start_time", "end_time", "enabled")


def _audit_schedule(schedule: Schedule, change: str) -> None:
    _audit(
        audit.ASSISTANT_SCHEDULE_CHANGED,
        schedule.assistant,
        by=audit.request_user(),
        change=change,
        schedule={
            "day_of_week": schedule.day_of_week,
            "start_time": str(schedule.start_time),
            "end_time": str(schedule.end_time),
            "enabled": schedule.enabled,
        },
    )


@transaction.atomic
def schedule_create(*, assistant: Assistant, data: dict[str, Any]) -> Schedule:
    schedule = Schedule.objects.create(assistant=assistant, **_allowed(data, SCHEDULE_FIELDS))
    _audit_schedule(schedule, "created")
    return schedule


@transaction.atomic
def schedule_update(*, schedule: Schedule, data: dict[str, Any]) -> Schedule:
    schedule = _save_changes(schedule, _allowed(data, SCHEDULE_FIELDS))
    _audit_schedule(schedule, "updated")
    return schedule


@transaction.atomic
def schedule_delete(*, schedule: Schedule) -> None:
    _audit_schedule(schedule, "deleted")
    schedule.delete()


# --- knowledge -----------------------------------------------------------------------------------


def _knowledge_changed(assistant: Assistant) -> None:
    now = timezone.now()
    Assistant.objects.filter(pk=assistant.pk).update(knowledge_changed_at=now, updated_at=now)
    assistant.knowledge_changed_at = now


@transaction.atomic
def knowledge_create(*, assistant: Assistant, title: str, content: str) -> KnowledgeDocument:
    document = KnowledgeDocument.objects.create(assistant=assistant, title=title, content=content)
    _knowledge_changed(assistant)
    return document


@transaction.atomic
def knowledge_update(*, document: KnowledgeDocument, data: dict[str, Any]) -> KnowledgeDocument:
    _save_changes(document, _allowed(data, ("title", "content")))
    _knowledge_changed(document.assistant)
    return document


@transaction.atomic
def knowledge_delete(*, document: KnowledgeDocument) -> None:
    assistant = document.assistant
    document.delete()
    _knowledge_changed(assistant)


# --- training ------------------------------------------------------------------------------------


@transaction.atomic
def assistant_train(*, assistant: Assistant) -> Assistant:
    """Mark the assistant ``training`` and build its index in a task once this commits."""
    from assistants.tasks import train_assistant_task

    Assistant.objects.filter(pk=assistant.pk).update(
        status=Assistant.Status.TRAINING, updated_at=timezone.now()
    )
    assistant.status = Assistant.Status.TRAINING
    transaction.on_commit(lambda: train_assistant_task.delay(str(assistant.pk)), robust=True)
    return assistant


def _chunks_of(document: KnowledgeDocument) -> list[KnowledgeChunk]:
    return [
        KnowledgeChunk(
            assistant_id=document.assistant_id,
            document=document,
            position=position,
            title=document.title,
            content=text,
            search_text=fold(f"{document.title}\n{text}"),
        )
        for position, text in enumerate(knowledge.chunk_text(document.content))
    ]


def _index_vectors(assistant_id) -> None:
    """Spanish and English lexemes of every chunk, under the GIN index (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        return
    KnowledgeChunk.objects.filter(assistant_id=assistant_id).update(
        search_vector=SearchVector("search_text", config="spanish")
        + SearchVector("search_text", config="english")
    )


@transaction.atomic
def knowledge_index_build(*, assistant_id) -> Assistant | None:
    """Replace the assistant's retrieval index with one built from its current documents.

    The assistant row is locked first, so two trainings run one after the other and the last
    one's index is the one that stays (never a mix of both).
    """
    assistant = Assistant.objects.select_for_update().filter(pk=assistant_id).first()
    if assistant is None:
        return None  # deleted meanwhile
    KnowledgeChunk.objects.filter(assistant=assistant).delete()
    chunks = [chunk for doc in assistant.knowledge.all() for chunk in _chunks_of(doc)]
    KnowledgeChunk.objects.bulk_create(chunks)
    _index_vectors(assistant.pk)
    now = timezone.now()
    Assistant.objects.filter(pk=assistant.pk, status=Assistant.Status.TRAINING).update(
        status=Assistant.Status.ACTIVE, updated_at=now
    )
    Assistant.objects.filter(pk=assistant.pk).update(trained_at=now)
    assistant.refresh_from_db()
    return assistant


# --- the ingestion hook --------------------------------------------------------------------------


def _wants_reply(message, conversation) -> bool:
    """A message an assistant could answer: not a reaction, and someone to answer it."""
    if message.type == Message.Type.REACTION:
        return False
    integration = message.integration
    return bool(
        conversation.assigned_assistant_id
        or (integration is not None and integration.default_assistant_id)
    )


def customer_messages_received(*, messages: list, conversations: dict) -> None:
    """Newly stored customer messages (a webhook batch), inside the ingestion transaction.

    Records the pending reply jobs in one INSERT (in the same transaction: a job exists iff its
    message does) and, once that commits, makes sure the reply decisions run when the quiet
    period ends (``schedule_reply_decisions``) and enqueues one debounced analysis per
    conversation. Nothing here waits or calls out. ``conversations`` maps the messages'
    conversation ids to their conversations.
    """
    quiet = conf.auto_reply_quiet_seconds()
    wanted = [m for m in messages if _wants_reply(m, conversations[m.conversation_id])]
    AutoReplyJob.objects.bulk_create(
        AutoReplyJob(
            workspace_id=message.workspace_id,
            conversation_id=message.conversation_id,
            trigger_message=message,
            due_at=message.created_at + timedelta(seconds=quiet),
        )
        for message in wanted
    )
    if wanted:
        message_ids = [str(message.pk) for message in wanted]
        transaction.on_commit(
            partial(schedule_reply_decisions, message_ids=message_ids, delay=quiet), robust=True
        )
    for conversation_id in dict.fromkeys(message.conversation_id for message in messages):
        transaction.on_commit(
            partial(schedule_analysis, conversation_id=conversation_id), robust=True
        )


REPLY_DECISIONS_KEY = "auto-reply-decisions-scheduled"


def schedule_reply_decisions(*, message_ids: list[str], delay: float) -> None:
    """Run the reply decisions of newly stored messages when their quiet period ends.

    With a broker, one task decides every job due by then (``auto_reply_decide_due``) and a
    burst of messages shares it: the key says one is already on its way (the task clears it
    before reading, and reschedules itself while jobs are pending, so none is missed; the
    minute sweep is the net if the broker lost it). Inline (the embedded default) there is
    nothing to wait with: each message is decided at once, as before.
    """
    from assistants.tasks import auto_reply_due_task, auto_reply_task

    if auto_reply_task.app.conf.task_always_eager:
        for message_id in message_ids:
            auto_reply_task.delay(message_id)
        return
    if cache.add(REPLY_DECISIONS_KEY, 1, timeout=int(delay) + 60):
        auto_reply_due_task.apply_async(countdown=delay)


def analysis_after_agent_reply(*, message) -> None:
    """``conversations.hooks.agent_replied``: what the agent answered changes the summary,
    priority and tags, so the conversation is analysed again (debounced, after commit)."""
    conversation_id = message.conversation_id
    transaction.on_commit(lambda: schedule_analysis(conversation_id=conversation_id), robust=True)


def analysis_schedule_key(conversation_id) -> str:
    return f"analysis-scheduled:{conversation_id}"


def schedule_analysis(*, conversation_id) -> None:
    """Enqueue the debounced analysis unless one is already pending for the conversation.

    A burst of 50 messages would otherwise queue 50 tasks that each wake up only to find a
    newer message; the pending one re-queues itself until the conversation has been quiet.
    The task clears the key before reading messages, so nothing arriving later is missed.
    """
    from assistants.tasks import analyze_conversation_task

    delay = conf.analysis_debounce_seconds()
    key = analysis_schedule_key(conversation_id)
    if not cache.add(key, 1, timeout=int(delay) + 60):
        return
    analyze_conversation_task.apply_async((str(conversation_id),), countdown=delay)


# --- the playground's history -----------------------------------------------------------------

PLAYGROUND_TITLE_LENGTH = 120


@transaction.atomic
def playground_exchange_record(
    *,
    by: User,
    conversation: PlaygroundConversation | None,
    assistant: Assistant | None,
    message: str,
    reply: str,
    source: str,
) -> PlaygroundConversation:
    """Keep one question and its answer in the member's chat (a new one when ``conversation``
    is None, titled after the question)."""
    now = timezone.now()
    if conversation is None:
        title = " ".join(message.split())[:PLAYGROUND_TITLE_LENGTH] or "…"
        conversation = PlaygroundConversation.objects.create(
            workspace_id=by.member_workspace_id, user=by, assistant=assistant, title=title
        )
    PlaygroundMessage.objects.bulk_create(
        [
            PlaygroundMessage(
                conversation=conversation, role="user", content=message, created_at=now
            ),
            # A microsecond later, so the answer always sorts after its question.
            PlaygroundMessage(
                conversation=conversation,
                role="assistant",
                content=reply,
                source=source,
                created_at=now + timedelta(microseconds=1),
            ),
        ]
    )
    PlaygroundConversation.objects.filter(pk=conversation.pk).update(updated_at=now)
    conversation.updated_at = now
    return conversation
