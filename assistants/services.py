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
from django.db import connection, transaction
from django.utils import timezone

from accounts import audit
from accounts.models import User
from assistants import conf, due_runs, knowledge
from assistants.models import (
    Assistant,
    AutoReplyJob,
    ConversationAnalysis,
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

    Records the pending reply jobs in one INSERT and marks the conversations' analyses due in
    one more (in the same transaction: the work is owed iff its message exists) and, once that
    commits, makes sure the bulk runs that do both happen when the quiet periods end
    (``due_runs``). Nothing here waits or calls out. ``conversations`` maps the messages'
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
    analyses_mark_due(conversation_ids=[message.conversation_id for message in messages])


def schedule_reply_decisions(*, message_ids: list[str], delay: float) -> None:
    """Run the reply decisions of newly stored messages when their quiet period ends.

    With a broker, one task decides every job due by then (``auto_reply_decide_due``) and a
    burst of messages shares it (``due_runs``; the minute sweep is the net if the broker lost
    it). Inline (the embedded default) there is nothing to wait with: each message is decided
    at once, as before.
    """
    from assistants.tasks import auto_reply_due_task, auto_reply_task

    if auto_reply_task.app.conf.task_always_eager:
        for message_id in message_ids:
            auto_reply_task.delay(message_id)
        return
    due_runs.REPLY_DECISIONS.request(auto_reply_due_task, delay=delay)


def analysis_after_agent_reply(*, message) -> None:
    """``conversations.hooks.agent_replied``: what the agent answered changes the summary,
    priority and tags, so the conversation is analysed again (after the quiet period)."""
    analyses_mark_due(conversation_ids=[message.conversation_id])


def analyses_mark_due(*, conversation_ids) -> None:
    """Owe the conversations an analysis once nobody has written for the quiet period.

    One upsert inside the caller's transaction (a later message moves the time on: the quiet
    period counts from the last one), then, after commit, one bulk run is asked for
    (``analysis_due_task``). Inline there is no waiting: each conversation is analysed at once.
    """
    ids = sorted(set(conversation_ids), key=str)  # one lock order for concurrent batches
    if not ids:
        return
    delay = conf.analysis_debounce_seconds()
    due_at = timezone.now() + timedelta(seconds=delay)
    ConversationAnalysis.objects.bulk_create(
        [ConversationAnalysis(conversation_id=pk, due_at=due_at) for pk in ids],
        update_conflicts=True,
        unique_fields=["conversation"],
        update_fields=["due_at"],
    )
    transaction.on_commit(
        partial(_request_analyses, conversation_ids=ids, delay=delay), robust=True
    )


def _request_analyses(*, conversation_ids: list, delay: float) -> None:
    from assistants.tasks import analysis_due_task, analyze_conversation_task

    if analysis_due_task.app.conf.task_always_eager:
        for conversation_id in conversation_ids:
            analyze_conversation_task.delay(str(conversation_id))
        return
    due_runs.ANALYSES.request(analysis_due_task, delay=delay)


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
