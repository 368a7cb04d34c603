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
from django.core.cache import cache
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from assistants import analysis, auto_reply, conf, services

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


# Decisions due within this much of each other share a run (what a reply may wait extra).
DUE_TICK_SECONDS = 0.25


@shared_task(**TASK_OPTIONS)
def auto_reply_due_task(self) -> int:
    """Decide every reply job whose quiet period is over (services.schedule_reply_decisions):
    refusals settled in bulk, each job it claimed answered by ``auto_reply_answer_task``; then
    run again when the next pending job falls due."""
    cache.delete(services.REPLY_DECISIONS_KEY)
    now = timezone.now()
    due = auto_reply.auto_reply_decide_due(now=now)
    for message_id, token in due.to_answer:
        auto_reply_answer_task.delay(message_id, token)
    if due.more:
        auto_reply_due_task.delay()
    elif due.next_due is not None:
        wait = max((due.next_due - now).total_seconds(), DUE_TICK_SECONDS)
        auto_reply_due_task.apply_async(countdown=wait)
    return len(due.to_answer) + due.closed


@shared_task(**TASK_OPTIONS)
def auto_reply_answer_task(self, message_id: str, token: str) -> str:
    return auto_reply.auto_reply_answer(message_id=message_id, token=token).status


@shared_task(**TASK_OPTIONS)
def analyze_conversation_task(self, conversation_id: str) -> str:
    cache.delete(services.analysis_schedule_key(conversation_id))
    outcome = analysis.conversation_analyze(
        conversation_id=conversation_id, wait=not self.request.is_eager
    )
    if outcome.retry_in and not self.request.is_eager:
        analyze_conversation_task.apply_async(
            (conversation_id,), countdown=_later(outcome.retry_in)
        )
    return outcome.status


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
