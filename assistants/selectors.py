"""Reads of the assistants app; the only place that scopes them to a workspace.

Another workspace's assistant, schedule or document does not exist for the caller (404).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from accounts.models import User, Workspace
from assistants import conf, knowledge, llm
from assistants.models import (
    AIDailyUsage,
    AIUsage,
    Assistant,
    KnowledgeChunk,
    KnowledgeDocument,
    PlaygroundConversation,
    PlaygroundMessage,
    Schedule,
)
from assistants.schedule import assistant_on_duty, workspace_zone
from assistants.usage import local_day
from conversations.models import Conversation, Message
from conversations.types import START_PAYLOAD
from flame.exceptions import NotFoundError

# The portable (non-PostgreSQL) retrieval scores chunks in Python; an assistant's knowledge
# base is small, but the read stays bounded whatever an admin uploads.
PORTABLE_SEARCH_MAX_CHUNKS = 2000

# --- assistants, schedules, knowledge ------------------------------------------------------------


def assistant_scope_for(*, user: User) -> QuerySet[Assistant]:
    """The assistants ``user`` may see, nothing loaded with them (dropdowns, id lists)."""
    if user.workspace_id is None:
        return Assistant.objects.none()
    return Assistant.objects.filter(workspace_id=user.workspace_id)


def assistant_list_for(*, user: User) -> QuerySet[Assistant]:
    """The API's and the list page's rows: each with its schedules and knowledge count."""
    return (
        assistant_scope_for(user=user)
        .prefetch_related(
            Prefetch(
                "schedules", queryset=Schedule.objects.order_by("day_of_week", "start_time", "id")
            )
        )
        .annotate(knowledge_count=Count("knowledge", distinct=True))
    )


def assistant_list_with_channels_for(*, user: User) -> QuerySet[Assistant]:
    """The settings list: each assistant with the channels it answers by default.

    The channels are reached through the relation integrations declare on assistants
    (``Integration.default_assistant``); assistants sit below integrations and do not import
    their code, only follow the relation.
    """
    channels = Assistant._meta.get_field("default_for_integrations").related_model
    return assistant_list_for(user=user).prefetch_related(
        Prefetch("default_for_integrations", queryset=channels._default_manager.order_by("name"))
    )


def _one_or_404(queryset: QuerySet, pk, what: str):
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise NotFoundError(f"{what} not found.")
    return found


def assistant_get_for(*, user: User, assistant_id) -> Assistant:
    return _one_or_404(assistant_list_for(user=user), assistant_id, "Assistant")


def schedule_list(*, assistant: Assistant) -> QuerySet[Schedule]:
    return Schedule.objects.filter(assistant=assistant)


def schedule_get(*, assistant: Assistant, schedule_id) -> Schedule:
    return _one_or_404(schedule_list(assistant=assistant), schedule_id, "Schedule")


def knowledge_list(*, assistant: Assistant) -> QuerySet[KnowledgeDocument]:
    return KnowledgeDocument.objects.filter(assistant=assistant).select_related("assistant")


def knowledge_get(*, assistant: Assistant, document_id) -> KnowledgeDocument:
    return _one_or_404(knowledge_list(assistant=assistant), document_id, "Knowledge document")


# --- retrieval -----------------------------------------------------------------------------------


def _word_query(word: str) -> SearchQuery:
    return SearchQuery(word, config="spanish") | SearchQuery(word, config="english")


def _postgres_search(assistant: Assistant, words: list[str], limit: int) -> list:
    """Coverage computed by PostgreSQL: one @@ test per word, candidates through the GIN index."""
    matches = [Q(search_vector=_word_query(word)) for word in words]
    found = functools.reduce(
        operator.add,
        [Case(When(match, then=Value(1.0)), default=Value(0.0)) for match in matches],
    )
    everything = functools.reduce(operator.or_, [_word_query(word) for word in words])
    rows = (
        KnowledgeChunk.objects.filter(functools.reduce(operator.or_, matches), assistant=assistant)
        .annotate(
            found=Coalesce(found, Value(0.0), output_field=FloatField()),
            rank=SearchRank(F("search_vector"), everything),
        )
        .order_by("-found", "-rank", "position")[:limit]
    )
    return [(row.found / len(words), row) for row in rows]


def _portable_search(assistant: Assistant, words: list[str], limit: int) -> list:
    chunks = KnowledgeChunk.objects.filter(assistant=assistant).order_by("document", "position")
    scored = [
        (knowledge.coverage(words, knowledge.stems_of(chunk.search_text)), chunk)
        for chunk in chunks[:PORTABLE_SEARCH_MAX_CHUNKS]
    ]
    scored = [pair for pair in scored if pair[0] > 0]
    scored.sort(key=lambda pair: -pair[0])  # stable: document order breaks ties
    return scored[:limit]


def knowledge_search(*, assistant: Assistant, query: str, limit: int) -> list[knowledge.Snippet]:
    """The chunks of the assistant's trained index that best match ``query``, best first."""
    words = knowledge.query_words(query)
    if not words or limit < 1:
        return []
    search = _postgres_search if connection.vendor == "postgresql" else _portable_search
    return [
        knowledge.Snippet(
            title=chunk.title,
            content=chunk.content,
            score=round(score, 4),
            document_id=str(chunk.document_id),
        )
        for score, chunk in search(assistant, words, limit)
    ]


# --- conversations as the assistant sees them ----------------------------------------------------


def _turn(message: Message) -> llm.Turn:
    content = message.content or f"[{message.type}]"
    link_code = (message.metadata or {}).get(START_PAYLOAD)
    if link_code:
        # What the customer came for: the link they opened the chat from names it.
        content = f"{content}\n[The customer opened the chat from a link with the code {link_code}]"
    return llm.Turn(sender=message.sender, content=content)


def latest_customer_message(*, conversation_id) -> Message | None:
    """The newest customer message that asks for an answer (a reaction does not)."""
    return (
        Message.objects.filter(conversation_id=conversation_id, sender=Message.Sender.USER)
        .exclude(type=Message.Type.REACTION)
        .order_by("-created_at", "-id")
        .first()
    )


def latest_customer_message_ids(*, conversation_ids) -> dict:
    """``latest_customer_message`` for many conversations in one query: {conversation: id}."""
    newest = (
        Message.objects.filter(conversation_id=OuterRef("pk"), sender=Message.Sender.USER)
        .exclude(type=Message.Type.REACTION)
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )
    return dict(
        Conversation.objects.filter(pk__in=conversation_ids)
        .annotate(newest=Subquery(newest))
        .values_list("pk", "newest")
    )


def conversation_turns(
    *, conversation_id, limit: int, until: Message | None = None
) -> tuple[tuple[llm.Turn, ...], datetime | None]:
    """The last ``limit`` messages (oldest first) up to ``until``, and the newest one's time."""
    # Private notes are the team's: the assistant never reads them (nor repeats them).
    messages = Message.objects.filter(
        conversation_id=conversation_id, is_deleted=False, private=False
    )
    if until is not None:
        messages = messages.filter(created_at__lte=until.created_at)
    return _turns_of(list(messages.order_by("-created_at", "-id")[:limit]))


def _turns_of(newest_first: list[Message]) -> tuple[tuple[llm.Turn, ...], datetime | None]:
    recent = newest_first[::-1]
    return tuple(_turn(m) for m in recent), (recent[-1].created_at if recent else None)


# Each conversation's last messages by its (conversation, created_at) index, all at once.
_LAST_MESSAGES_SQL = """
SELECT m.id, m.conversation_id, m.sender, m.type, m.content, m.metadata, m.created_at
FROM unnest(%s::uuid[]) AS wanted(id)
CROSS JOIN LATERAL (
    SELECT id, conversation_id, sender, type, content, metadata, created_at
    FROM {table}
    WHERE conversation_id = wanted.id AND NOT is_deleted AND NOT private
    ORDER BY created_at DESC, id DESC
    LIMIT %s
) AS m
ORDER BY m.created_at DESC, m.id DESC
"""


def conversations_turns(*, conversation_ids, limit: int) -> dict:
    """``conversation_turns`` for many conversations: {id: (turns, newest message's time)}.

    One query on PostgreSQL, a LATERAL join that reads each conversation's last ``limit``
    messages from the index however long the conversation (a window over all their messages
    would read every one); one query per conversation elsewhere (SQLite has no LATERAL).
    """
    ids = list(conversation_ids)
    if not ids:
        return {}
    if connection.vendor != "postgresql":
        return {pk: conversation_turns(conversation_id=pk, limit=limit) for pk in ids}
    newest_first: dict[str, list[Message]] = {str(pk): [] for pk in ids}
    sql = _LAST_MESSAGES_SQL.format(table=connection.ops.quote_name(Message._meta.db_table))
    for message in Message.objects.raw(sql, [list(newest_first), limit]):
        newest_first[str(message.conversation_id)].append(message)
    return {pk: _turns_of(newest_first[str(pk)]) for pk in ids}


def _assistant_id_of(conversation: Conversation):
    """Its own assistant, else its channel's default."""
    if conversation.assigned_assistant_id is not None:
        return conversation.assigned_assistant_id
    integration = conversation.integration if conversation.integration_id else None
    return integration.default_assistant_id if integration else None


def assistant_for_conversation(conversation: Conversation) -> Assistant | None:
    """Its own assistant, else its channel's default; never another workspace's."""
    return assistants_for_conversations([conversation]).get(conversation.pk)


def assistants_for_conversations(conversations: list[Conversation]) -> dict:
    """``assistant_for_conversation`` for many: one query and the schedules. {pk: assistant}"""
    wanted = {c.pk: _assistant_id_of(c) for c in conversations}
    loaded = {
        a.pk: a
        for a in Assistant.objects.select_related("workspace")
        .prefetch_related("schedules")
        .filter(pk__in={pk for pk in wanted.values() if pk})
    }
    return {
        c.pk: a
        for c in conversations
        if (a := loaded.get(wanted[c.pk])) is not None and a.workspace_id == c.workspace_id
    }


def assistant_handles(*, conversation: Conversation) -> bool:
    """``conversations.hooks.assistant_handles``: an AI assistant answers the conversation now
    (active, on duty) and has not handed it to the agents, which makes it pending. A fixed-reply
    assistant only acknowledges: its conversations still need a person."""
    if conversation.status != Conversation.Status.ACTIVE:
        return False
    assistant = assistant_for_conversation(conversation)
    return bool(
        assistant is not None
        and assistant.type == Assistant.Type.AI
        and assistant.status == Assistant.Status.ACTIVE
        and assistant_on_duty(assistant, timezone.now())
    )


# --- usage and quota -----------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageWindow:
    first_day: date
    last_day: date


def usage_metrics() -> dict:
    return {
        "requests": Count("id"),
        "failed": Count("id", filter=Q(succeeded=False)),
        "prompt_tokens": Coalesce(Sum("prompt_tokens"), 0),
        "completion_tokens": Coalesce(Sum("completion_tokens"), 0),
        "cost": Sum("cost"),
    }


def usage_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "total_tokens": row["prompt_tokens"] + row["completion_tokens"],
        "cost": row["cost"] or 0,
    }


def ai_usage_report(*, workspace: Workspace, window: UsageWindow) -> dict:
    """AIUsage of ``workspace`` per local day, per assistant and per purpose."""
    zone = workspace_zone(workspace.timezone)
    start = datetime.combine(window.first_day, time.min, tzinfo=zone)
    end = datetime.combine(window.last_day + timedelta(days=1), time.min, tzinfo=zone)
    rows = AIUsage.objects.filter(workspace=workspace, created_at__gte=start, created_at__lt=end)
    by_day = (
        rows.annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(**usage_metrics())
        .order_by("day")
    )
    by_assistant = (
        rows.values("assistant_id", assistant_name=F("assistant__name"))
        .annotate(**usage_metrics())
        # "requests" is one of usage_metrics()'s annotations, which the stubs cannot see.
        .order_by("-requests", "assistant_name")  # type: ignore[misc]
    )
    by_purpose = rows.values("purpose").annotate(**usage_metrics()).order_by("purpose")
    return {
        "from": window.first_day,
        "to": window.last_day,
        "timezone": workspace.timezone,
        "totals": usage_row(rows.aggregate(**usage_metrics())),
        "by_day": [usage_row(row) for row in by_day],
        "by_assistant": [usage_row(row) for row in by_assistant],
        "by_purpose": [usage_row(row) for row in by_purpose],
    }


def ai_quota_status(*, workspace: Workspace, at: datetime) -> dict:
    day = local_day(workspace, at)
    ledger = AIDailyUsage.objects.filter(workspace=workspace, day=day).first()
    used = {"requests": ledger.requests if ledger else 0, "tokens": ledger.tokens if ledger else 0}
    limits = conf.plan_limits(workspace.plan)
    remaining = (
        None
        if limits is None
        else {name: max(0, limits[name] - used[name]) for name in ("requests", "tokens")}
    )
    return {
        "plan": workspace.plan,
        "day": day,
        "limits": limits,
        "used": used,
        "remaining": remaining,
    }


def ai_models(*, workspace: Workspace) -> list[dict]:
    """Models worth offering: the default, the price table's, and those assistants already use."""
    prices = conf.prices()
    in_use = set(
        Assistant.objects.filter(workspace=workspace)
        .exclude(model="")
        .values_list("model", flat=True)
    )
    names = dict.fromkeys([conf.default_model(), *sorted(prices), *sorted(in_use)])
    return [
        {
            "id": name,
            "default": name == conf.default_model(),
            "prompt_price_per_million": prices.get(name, {}).get("prompt"),
            "completion_price_per_million": prices.get(name, {}).get("completion"),
        }
        for name in names
    ]


# --- the playground's history -----------------------------------------------------------------


def playground_conversation_list_for(*, user: User) -> QuerySet[PlaygroundConversation]:
    """A member's own playground chats (nobody else's, not even an admin's), newest first."""
    if user.workspace_id is None:
        return PlaygroundConversation.objects.none()
    return PlaygroundConversation.objects.filter(
        user=user, workspace_id=user.workspace_id
    ).annotate(message_count=Count("messages"))


def playground_conversation_get_for(*, user: User, conversation_id) -> PlaygroundConversation:
    return _one_or_404(playground_conversation_list_for(user=user), conversation_id, "Conversation")


def playground_messages(*, conversation: PlaygroundConversation) -> QuerySet[PlaygroundMessage]:
    return conversation.messages.order_by("created_at", "id")


def playground_history(*, conversation: PlaygroundConversation, limit: int) -> list[dict]:
    """The last ``limit`` messages as the chat endpoints' ``history`` ({role, content})."""
    newest = list(conversation.messages.order_by("-created_at", "-id")[:limit])
    return [{"role": message.role, "content": message.content} for message in reversed(newest)]
