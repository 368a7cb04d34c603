"""Conversation analysis: a short summary, a priority and tags, kept up to date by the LLM.

Debounced per conversation: each customer message (and each agent reply) marks the
conversation's ``ConversationAnalysis`` row due AI_ANALYSIS_DEBOUNCE_SECONDS later
(services.analyses_mark_due; a later message moves it on). One bulk run (analysis_due_task)
claims every due row at once (a conditional UPDATE with a token and a lease, so two workers
never analyse the same conversation at once) and hands the claimed conversations to
analyze_claimed_task in chunks; a run that finds nothing new since the last stored analysis
stops there. A message that arrives during a run marks the row due again, so it is analysed
too; a claim whose worker died is taken again when its lease ends. The model's answer is
validated; anything malformed changes nothing and is logged. The result goes to the
conversation's ai_* fields (and its priority and tags, until an agent sets them:
conversations.services.conversations_record_analyses) and to clients as
``conversation:ai:update``.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.switches import AI_ANALYSIS
from assistants import conf, llm, selectors, usage
from assistants.models import AIUsage, ConversationAnalysis
from conversations.models import Conversation
from conversations.services import (
    AnalysisWrite,
    conversations_lock_for_analysis,
    conversations_record_analyses,
)
from flame.bulk import rows_update

logger = logging.getLogger(__name__)

MAX_SUMMARY = 200
MAX_TAGS = 10
MAX_TAG_LENGTH = 50


class AnalysisInvalid(ValueError):
    pass


@dataclass(frozen=True)
class AnalysisResult:
    summary: str
    priority: str
    tags: list[str]


@dataclass(frozen=True)
class AnalysisOutcome:
    status: str  # "analyzed" | "wait" | "up_to_date" | "busy" | "invalid" | "failed" | ...
    retry_in: float = 0.0
    result: AnalysisResult | None = None


# --- validation of the model's answer ------------------------------------------------------------


def _json_object(content: str) -> dict:
    text = re.sub(r"^```(?:json)?\s*|\s*```$", "", content.strip())  # models like code fences
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnalysisInvalid(f"not JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise AnalysisInvalid("not a JSON object")
    return data


def _summary(data: dict) -> str:
    summary = data.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise AnalysisInvalid("summary must be a non-empty string")
    summary = " ".join(summary.split())
    return summary if len(summary) <= MAX_SUMMARY else summary[: MAX_SUMMARY - 1] + "…"


def _priority(data: dict) -> str:
    priority = data.get("priority")
    if priority not in Conversation.Priority.values:
        raise AnalysisInvalid(f"priority must be one of {Conversation.Priority.values}")
    return priority


def _tags(data: dict) -> list[str]:
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise AnalysisInvalid("tags must be a list of strings")
    cleaned = [tag.strip().lower()[:MAX_TAG_LENGTH] for tag in tags if tag.strip()]
    return list(dict.fromkeys(cleaned))[:MAX_TAGS]


def analysis_parse(content: str) -> AnalysisResult:
    data = _json_object(content)
    return AnalysisResult(summary=_summary(data), priority=_priority(data), tags=_tags(data))


# --- the run -------------------------------------------------------------------------------------


def _claim(conversation: Conversation, now: datetime) -> uuid.UUID | None:
    ConversationAnalysis.objects.get_or_create(conversation=conversation)
    token = uuid.uuid4()
    free = Q(claim_token__isnull=True) | Q(claimed_until__lt=now)
    won = ConversationAnalysis.objects.filter(free, pk=conversation.pk).update(
        claim_token=token, claimed_until=_lease_end(now), due_at=None
    )
    return token if won else None


def _lease_end(now: datetime) -> datetime:
    return now + timedelta(seconds=conf.claim_lease_seconds())


def _release(conversation: Conversation, token: uuid.UUID, **changes) -> None:
    """Give the claim back (if ``token`` still holds it) after a run that wrote no result."""
    ConversationAnalysis.objects.filter(pk=conversation.pk, claim_token=token).update(
        claim_token=None, claimed_until=None, **changes
    )


def _analyzed_through(conversation: Conversation) -> datetime | None:
    state = ConversationAnalysis.objects.filter(pk=conversation.pk).first()
    return state.analyzed_through if state else None


def _store_all(
    token: uuid.UUID, generated: list[tuple[Conversation, _Generated]], now: datetime
) -> set:
    """Write the results whose claim ``token`` still holds, in one transaction; the ids
    written. The conversations are locked before the claims, the order ingestion takes them in
    (it moves the counters, then marks the analysis due), so the two never deadlock. A claim
    another run took meanwhile (ours ran out) is that run's: its result is not written."""
    if not generated:
        return set()
    ids = [conversation.pk for conversation, _ in generated]
    with transaction.atomic():
        locked = conversations_lock_for_analysis(ids)
        held = set(
            ConversationAnalysis.objects.select_for_update()
            .filter(pk__in=ids, claim_token=token)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        kept = [(c, done) for c, done in generated if c.pk in held and c.pk in locked]
        conversations_record_analyses(
            locked=locked,
            writes=[
                AnalysisWrite(c.pk, done.result.summary, done.result.priority, done.result.tags)
                for c, done in kept
            ],
            analyzed_at=now,
        )
        rows_update(
            [
                ConversationAnalysis(
                    conversation_id=c.pk,
                    analyzed_through=done.through,
                    claim_token=None,
                    claimed_until=None,
                    last_error="",
                )
                for c, done in kept
            ],
            ["analyzed_through", "claim_token", "claimed_until", "last_error"],
        )
    return {c.pk for c, _ in kept}


def _generate(conversation: Conversation, transcript) -> AnalysisResult:
    model = conf.analysis_model()
    context = usage.CallContext(
        workspace=conversation.workspace,
        purpose=AIUsage.Purpose.ANALYSIS,
        assistant=conversation.assigned_assistant,
        conversation=conversation,
    )
    request = llm.AnalysisRequest(model=model, transcript=transcript)
    completion = usage.ai_call(
        context=context, model=model, call=lambda provider: provider.analyze(request)
    )
    return analysis_parse(completion.content)


def _not_now(
    conversation: Conversation | None, now: datetime, wait: bool
) -> AnalysisOutcome | None:
    """Why this run stops before calling the model (None: go ahead); up to date aside."""
    if conversation is None:
        return AnalysisOutcome(status="missing")
    if not AI_ANALYSIS.is_on(conversation.workspace):
        return AnalysisOutcome(status="disabled")
    if conversation.last_customer_message_at is None:
        return AnalysisOutcome(status="no_customer_message")  # only our side has spoken yet
    # Quiet means nobody wrote for a while: an agent's answer is analysed with what it answers.
    quiet_until = conversation.last_message_at + timedelta(seconds=conf.analysis_debounce_seconds())
    if wait and quiet_until > now:
        return AnalysisOutcome(status="wait", retry_in=(quiet_until - now).total_seconds())
    return None


def _up_to_date(conversation: Conversation, through: datetime | None) -> bool:
    """The last stored analysis read the conversation's newest message already."""
    return through is not None and through >= conversation.last_message_at


UP_TO_DATE = AnalysisOutcome(status="up_to_date")


def conversation_analyze(
    *, conversation_id, now: datetime | None = None, wait: bool = True
) -> AnalysisOutcome:
    now = now or timezone.now()
    conversation = (
        Conversation.objects.select_related("workspace", "assigned_assistant")
        .filter(pk=conversation_id)
        .first()
    )
    stop = _not_now(conversation, now, wait)
    if stop is not None:
        return stop
    if _up_to_date(conversation, _analyzed_through(conversation)):
        return UP_TO_DATE
    token = _claim(conversation, now)
    if token is None:
        return AnalysisOutcome(status="busy", retry_in=conf.analysis_debounce_seconds())
    return _run_claimed(conversation, token, now)


def _run_claimed(conversation: Conversation, token: uuid.UUID, now: datetime) -> AnalysisOutcome:
    generated = _generated(conversation, token)
    if isinstance(generated, AnalysisOutcome):
        return generated
    return _stored(conversation, token, generated, now)


@dataclass(frozen=True)
class _Generated:
    result: AnalysisResult
    through: datetime | None


def _generated(
    conversation: Conversation, token: uuid.UUID, turns: tuple | None = None
) -> _Generated | AnalysisOutcome:
    """The model's validated answer on the last messages (``turns``, read here when not
    given), outside any transaction; what went wrong releases the claim and is the outcome."""
    if turns is None:
        turns = selectors.conversation_turns(
            conversation_id=conversation.pk, limit=conf.analysis_messages()
        )
    transcript, through = turns
    if not transcript:
        _release(conversation, token)
        return AnalysisOutcome(status="empty")
    try:
        return _Generated(result=_generate(conversation, transcript), through=through)
    except llm.LLMError as exc:
        _release(conversation, token, last_error=exc.code)
        return AnalysisOutcome(status="failed")
    except AnalysisInvalid as exc:
        logger.warning(
            "Analysis answer rejected",
            extra={"conversation_id": str(conversation.pk), "problem": str(exc)},
        )
        _release(conversation, token, last_error=f"invalid: {exc}"[:200])
        return AnalysisOutcome(status="invalid")


def _stored(
    conversation: Conversation, token: uuid.UUID, generated: _Generated, now: datetime
) -> AnalysisOutcome:
    if not _store_all(token, [(conversation, generated)], now):
        return AnalysisOutcome(status="claim_lost")
    return AnalysisOutcome(status="analyzed", result=generated.result)


# --- the bulk run --------------------------------------------------------------------------------

DUE_BATCH = 500  # claimed per pass; a fuller queue takes another pass at once
# How long past due an analysis may wait while a burst is ingested (flame.backpressure).
ANALYSIS_MAX_WAIT = timedelta(seconds=30)


@dataclass(frozen=True)
class DueAnalyses:
    """What one pass claimed: conversation ids (for ``analyses_run_claimed``) and their claim
    token; when the next unclaimed row falls due (None: none); whether more were due than one
    pass takes."""

    claimed: list[str]
    token: str
    next_due: datetime | None
    more: bool


def _claimable(now: datetime) -> Q:
    """Due and free, or claimed by a run whose lease ran out (its worker died)."""
    return Q(due_at__lte=now, claim_token__isnull=True) | Q(
        claim_token__isnull=False, claimed_until__lt=now
    )


def analyses_claim_due(*, now: datetime) -> DueAnalyses:
    """Claim every conversation whose analysis is due by ``now``, in two statements whatever
    their number. Rows another transaction holds (a run claiming them, ingestion marking them
    due again) are skipped, not waited for: they are due later or someone else's."""
    token = uuid.uuid4()
    rows = ConversationAnalysis.objects
    with transaction.atomic():
        claimed = [
            str(pk)
            for pk in rows.filter(_claimable(now))
            .order_by("due_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:DUE_BATCH]
        ]
        if claimed:
            rows.filter(pk__in=claimed).update(
                claim_token=token, claimed_until=_lease_end(now), due_at=None
            )
    return DueAnalyses(
        claimed=claimed,
        token=str(token),
        next_due=analyses_next_due(),
        more=len(claimed) == DUE_BATCH,
    )


def analyses_overdue(*, now: datetime) -> bool:
    """Whether an unclaimed analysis has waited past its due time longer than it may wait for a
    burst of ingestion to end (then the run goes ahead, burst or not)."""
    pending = ConversationAnalysis.objects.filter(claim_token__isnull=True)
    return pending.filter(due_at__lte=now - ANALYSIS_MAX_WAIT).exists()


def analyses_next_due() -> datetime | None:
    """When the earliest unclaimed analysis falls due (a claimed one is its run's business)."""
    pending = ConversationAnalysis.objects.filter(due_at__isnull=False, claim_token__isnull=True)
    return pending.order_by("due_at").values_list("due_at", flat=True).first()


def analyses_run_claimed(*, conversation_ids: list[str], token: str, now: datetime) -> dict:
    """Analyse the conversations a bulk run claimed with ``token``: {status: how many}.

    The claims are renewed first: the lease counts from when the work starts, not from when it
    was queued, and a conversation whose claim ran out while this task waited (another run
    holds it now) is left to that run before any model is called. How far each was analysed
    and the conversations come in two queries, the last messages of those to analyse in one
    more (on PostgreSQL); those with nothing to do are released in one UPDATE; each of the
    others is one model call (outside any transaction; their usage rows go in one INSERT),
    and the results are written in one transaction of a fixed number of statements
    (``_store_all``).
    """
    through = _renewed(conversation_ids, token, now)
    conversations = Conversation.objects.select_related("workspace", "assigned_assistant").in_bulk(
        list(through)
    )
    counts: Counter[str] = Counter({"claim_lost": len(conversation_ids) - len(through)})
    idle, due = [], []
    for pk in sorted(conversations, key=str):
        conversation = conversations[pk]
        outcome = _not_now(conversation, now, wait=False)
        if outcome is None and _up_to_date(conversation, through[pk]):
            outcome = UP_TO_DATE
        if outcome is None:
            due.append(conversation)
        else:
            idle.append(pk)
            counts[outcome.status] += 1
    turns = selectors.conversations_turns(
        conversation_ids=[c.pk for c in due], limit=conf.analysis_messages()
    )
    generated = []
    with usage.usage_recorded_together():
        for conversation in due:
            outcome = _generated(conversation, uuid.UUID(token), turns[conversation.pk])
            if isinstance(outcome, _Generated):
                generated.append((conversation, outcome))
            else:
                counts[outcome.status] += 1
    ConversationAnalysis.objects.filter(pk__in=idle, claim_token=token).update(
        claim_token=None, claimed_until=None
    )
    written = _store_all(uuid.UUID(token), generated, now)
    counts["analyzed"] += len(written)
    counts["claim_lost"] += len(generated) - len(written)
    return {status: n for status, n in counts.items() if n}


def _renewed(conversation_ids: list[str], token: str, now: datetime) -> dict:
    """{conversation id: analysed through} of the claims ``token`` still holds, renewed."""
    held = ConversationAnalysis.objects.filter(pk__in=conversation_ids, claim_token=token)
    held.update(claimed_until=_lease_end(now))
    return dict(held.values_list("pk", "analyzed_through"))
