"""Celery tasks of the assistants app (queue ``ai``, routed by module in settings).

Thin: take ids, call one service, re-enqueue when the service says "not yet". Every task is
late-acked, retried a bounded number of times on database hiccups only (LLM failures are
handled inside, by falling back), time-limited above the worst-case LLM call, and safe to run
twice (the services claim their work in the database).

Inline (eager) execution has no broker to delay with, so it does not wait for quiet periods:
on the embedded default each customer message is answered and analysed at once.
"""

from __future__ import annotations

import math

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from assistants import analysis, auto_reply, conf, due_runs, llm, services
from flame import backpressure

SOFT_TIME_LIMIT = conf.ai_task_soft_time_limit()
TASK_OPTIONS = {
    "bind": True,
    "acks_late": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "max_retries": 3,
    "retry_backoff": 2,
    "retry_jitter": True,
    "soft_time_limit": SOFT_TIME_LIMIT,
    "time_limit": SOFT_TIME_LIMIT + 30,
}


def _later(seconds: float) -> int:
    return max(1, math.ceil(seconds))


@shared_task(**TASK_OPTIONS)
def auto_reply_task(self, message_id: str) -> str:
    outcome = auto_reply.auto_reply_process(message_id=message_id, wait=not self.request.is_eager)
    if outcome.status == auto_reply.WAIT:
        auto_reply_task.apply_async((message_id,), countdown=_later(outcome.retry_in))
    return outcome.status


@shared_task(**TASK_OPTIONS)
def auto_reply_due_task(self, at: float | None = None) -> int:
    """Decide every reply job whose quiet period is over (services.schedule_reply_decisions):
    refusals settled in bulk, each job it claimed answered by ``auto_reply_answer_task``; then
    ask for a run when the next pending job falls due (``due_runs``)."""
    due_runs.REPLY_DECISIONS.started(at)
    now = timezone.now()
    due = auto_reply.auto_reply_decide_due(now=now)
    for message_id, token in due.to_answer:
        auto_reply_answer_task.delay(message_id, token)
    _next_run(due_runs.REPLY_DECISIONS, auto_reply_due_task, now, due.next_due, due.more)
    return len(due.to_answer) + due.closed


def _next_run(run: due_runs.DueRun, task, now, next_due, more: bool) -> None:
    if more:
        run.request(task, delay=0)
    elif next_due is not None:
        run.request(task, delay=(next_due - now).total_seconds())


@shared_task(**TASK_OPTIONS)
def auto_reply_answer_task(self, message_id: str, token: str) -> str:
    return auto_reply.auto_reply_answer(message_id=message_id, token=token).status


@shared_task(**TASK_OPTIONS)
def analyze_conversation_task(self, conversation_id: str) -> str:
    """One conversation at once: inline (the embedded default), where nothing waits."""
    outcome = analysis.conversation_analyze(
        conversation_id=conversation_id, wait=not self.request.is_eager
    )
    if outcome.retry_in and not self.request.is_eager:
        services.analyses_mark_due(conversation_ids=[conversation_id])
    return outcome.status


# Conversations per analyze_claimed_task: the local model answers in microseconds, so a chunk
# shares one task's overhead; a remote one takes seconds per call, so each conversation is a
# task of its own and the pool runs them side by side.
LOCAL_CHUNK = 50
# While ingestion is busy (flame.backpressure) an analyses run looks again this much later.
ANALYSES_YIELD_SECONDS = 1.0


@shared_task(**TASK_OPTIONS)
def analysis_due_task(self, at: float | None = None) -> int:
    """Claim every conversation whose analysis is due (services.analyses_mark_due), hand them
    to ``analyze_claimed_task``, then ask for a run when the next one falls due. While a burst
    is being ingested the run waits, unless an analysis is overdue (analysis.ANALYSIS_MAX_WAIT)."""
    due_runs.ANALYSES.started(at)
    now = timezone.now()
    if _yields_to_ingestion(self, now):
        # A burst is being ingested: the analyses stay due and the run comes back shortly.
        due_runs.ANALYSES.request(analysis_due_task, delay=ANALYSES_YIELD_SECONDS)
        return 0
    due = analysis.analyses_claim_due(now=now)
    size = LOCAL_CHUNK if not llm.provider().metered else 1
    for start in range(0, len(due.claimed), size):
        analyze_claimed_task.delay(due.claimed[start : start + size], due.token)
    _next_run(due_runs.ANALYSES, analysis_due_task, now, due.next_due, due.more)
    return len(due.claimed)


def _yields_to_ingestion(task, now) -> bool:
    # Inline there is no broker to come back later with, and no burst to make way for.
    if task.request.is_eager or not backpressure.ingestion_busy():
        return False
    return not analysis.analyses_overdue(now=now)


@shared_task(**TASK_OPTIONS)
def analyze_claimed_task(self, conversation_ids: list[str], token: str) -> dict:
    counts = analysis.analyses_run_claimed(
        conversation_ids=conversation_ids, token=token, now=timezone.now()
    )
    # Messages that came in meanwhile marked some of them due again: their run is owed now.
    next_due = analysis.analyses_next_due()
    _next_run(due_runs.ANALYSES, analysis_due_task, timezone.now(), next_due, more=False)
    return counts


@shared_task(**TASK_OPTIONS)
def train_assistant_task(self, assistant_id: str) -> None:
    services.knowledge_index_build(assistant_id=assistant_id)


@shared_task(**TASK_OPTIONS)
def auto_reply_sweep_task(self) -> int:
    """Periodic: re-run reply jobs whose task was lost (broker down, worker killed)."""
    message_ids, _expired = auto_reply.auto_reply_overdue(now=timezone.now())
    for message_id in message_ids:
        auto_reply_task.delay(message_id)
    return len(message_ids)
