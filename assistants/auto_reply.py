"""The automatic reply to a burst of customer messages: decide, claim, generate, store.

Every new customer message gets an ``AutoReplyJob`` (unique on the message, written by
ingestion in the message's own transaction) and a task due after the quiet period
(AUTO_REPLY_QUIET_SECONDS). When a job's task runs:

1. **Decide** (reads only). A newer customer message supersedes the job — that message's own
   job answers the whole burst. Too early → wait. Then the assistant (the conversation's, else
   the channel's default) must be active and on duty, and no human may be in charge (an agent
   assigned, or an agent reply within ``handoff_quiet_minutes``).
2. **Claim** by conditional UPDATE (pending → claimed with a fresh token). A duplicate task, a
   retry or a second worker loses and does nothing. A claim whose worker died can be taken
   again after CLAIM_LEASE; the token fences the late first worker out at step 4.
3. **Generate** outside any transaction (assistants.replies): the LLM may take seconds.
4. **Store** in one transaction holding the conversation's row lock — the same row every
   ingestion updates, so a customer message committed meanwhile is seen: the generation is
   then discarded (the newer message's job answers). Otherwise the job is settled with its
   token and the reply leaves through ``message_store_outbound``, exactly like an agent's; with
   nothing to say the conversation is handed to the agents (``pending`` + event).

Steps are separate functions so tests can drive them with an explicit ``now`` and interleave a
newer message between generation and storage.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts import audit
from assistants import conf, replies, selectors
from assistants.models import AIUsage, Assistant, AutoReplyJob
from assistants.schedule import assistant_on_duty
from conversations.models import Conversation, Message
from conversations.services import OutboundDraft, conversation_hand_off, message_store_outbound

logger = logging.getLogger(__name__)

WAIT = "wait"
MISSING = "missing"


@dataclass(frozen=True)
class Outcome:
    status: str  # an AutoReplyJob.Status, WAIT or MISSING
    reason: str = ""
    retry_in: float = 0.0
    reply: Message | None = None


@dataclass(frozen=True)
class ReplyPlan:
    job_id: uuid.UUID
    token: uuid.UUID
    conversation: Conversation
    trigger: Message
    assistant: Assistant
    now: datetime


# --- 1. decide -----------------------------------------------------------------------------------


def human_in_charge(conversation: Conversation, assistant: Assistant, now: datetime) -> bool:
    if conversation.assigned_agent_id is not None:
        return True
    replied = conversation.last_agent_reply_at
    quiet = timedelta(minutes=assistant.handoff_quiet_minutes)
    return replied is not None and replied > now - quiet


def _superseded(conversation_id, trigger_id) -> bool:
    latest = selectors.latest_customer_message(conversation_id=conversation_id)
    return latest is not None and latest.pk != trigger_id


def _refusal(
    conversation: Conversation,
    assistant: Assistant | None,
    now: datetime,
    on_duty: bool | None = None,
) -> str:
    """Why the assistant must not answer now ("" when it may). ``on_duty``: already known for
    this assistant at ``now`` (a batch decides many jobs of one assistant)."""
    if conversation.status not in Conversation.OPEN_STATUSES:
        return "conversation_closed"
    if assistant is None:
        return "no_assistant"
    if assistant.status != Assistant.Status.ACTIVE:
        return "assistant_inactive"
    if not (assistant_on_duty(assistant, now) if on_duty is None else on_duty):
        return "off_duty"
    if human_in_charge(conversation, assistant, now):
        return "human_in_charge"
    return ""


def _load_job(message_id) -> AutoReplyJob | None:
    return (
        AutoReplyJob.objects.select_related(
            "trigger_message", "conversation", "conversation__integration"
        )
        .filter(trigger_message_id=message_id)
        .first()
    )


def _claimable(now: datetime) -> Q:
    expired = now - timedelta(seconds=conf.claim_lease_seconds())
    return Q(status=AutoReplyJob.Status.PENDING) | Q(
        status=AutoReplyJob.Status.CLAIMED, claimed_at__lt=expired
    )


def _close_unclaimed(job: AutoReplyJob, status: str, reason: str, now: datetime) -> Outcome:
    AutoReplyJob.objects.filter(_claimable(now), pk=job.pk).update(
        status=status, reason=reason, finished_at=now
    )
    return Outcome(status=status, reason=reason)


def _claim(job: AutoReplyJob, assistant: Assistant, now: datetime) -> uuid.UUID | None:
    token = uuid.uuid4()
    won = AutoReplyJob.objects.filter(_claimable(now), pk=job.pk).update(
        status=AutoReplyJob.Status.CLAIMED,
        claim_token=token,
        claimed_at=now,
        attempts=F("attempts") + 1,
        assistant=assistant,
    )
    return token if won else None


def auto_reply_prepare(*, message_id, now: datetime, wait: bool = True) -> ReplyPlan | Outcome:
    """Steps 1 and 2: a plan to generate with, or the outcome that ends the job here."""
    job = _load_job(message_id)
    if job is None:
        return Outcome(status=MISSING)
    if not AutoReplyJob.objects.filter(_claimable(now), pk=job.pk).exists():
        return Outcome(status=job.status, reason="already_handled")
    if _superseded(job.conversation_id, job.trigger_message_id):
        return _close_unclaimed(job, AutoReplyJob.Status.DISCARDED, "superseded", now)
    if wait and job.due_at > now:
        return Outcome(status=WAIT, retry_in=(job.due_at - now).total_seconds())
    assistant = selectors.assistant_for_conversation(job.conversation)
    refusal = _refusal(job.conversation, assistant, now)
    if refusal:
        return _close_unclaimed(job, AutoReplyJob.Status.SKIPPED, refusal, now)
    token = _claim(job, assistant, now)
    if token is None:
        return Outcome(status=AutoReplyJob.Status.CLAIMED, reason="claimed_elsewhere")
    return ReplyPlan(
        job_id=job.pk,
        token=token,
        conversation=job.conversation,
        trigger=job.trigger_message,
        assistant=assistant,
        now=now,
    )


# --- 3. generate ---------------------------------------------------------------------------------


def reply_generate(*, plan: ReplyPlan) -> replies.Answer:
    history, _newest = selectors.conversation_turns(
        conversation_id=plan.conversation.pk,
        limit=conf.auto_reply_history_messages(),
        until=plan.trigger,
    )
    return replies.answer_as(
        assistant=plan.assistant,
        history=history,
        purpose=AIUsage.Purpose.REPLY,
        conversation=plan.conversation,
    )


# --- 4. store ------------------------------------------------------------------------------------


def _settle(plan: ReplyPlan, status: str, reason: str, reply: Message | None = None) -> bool:
    """Finish the job if this worker still holds its claim (the token is the fence)."""
    return (
        AutoReplyJob.objects.filter(
            pk=plan.job_id, status=AutoReplyJob.Status.CLAIMED, claim_token=plan.token
        ).update(status=status, reason=reason, reply=reply, finished_at=timezone.now())
        == 1
    )


def _stale_reason(plan: ReplyPlan, conversation: Conversation) -> str:
    if _superseded(conversation.pk, plan.trigger.pk):
        return "newer_message"
    if human_in_charge(conversation, plan.assistant, max(plan.now, timezone.now())):
        return "human_in_charge"
    return ""


def _hand_off(conversation: Conversation, assistant: Assistant, reason: str) -> None:
    """No answer to give: the conversation waits for an agent, and the agents are told."""
    conversation_hand_off(conversation=conversation, assistant=assistant, reason=reason)


def _send(plan: ReplyPlan, conversation: Conversation, answer: replies.Answer) -> Message:
    return message_store_outbound(
        conversation=conversation,
        sender=Message.Sender.ASSISTANT,
        draft=OutboundDraft(
            content=answer.text,
            metadata={"auto_reply": {"job_id": str(plan.job_id), "source": answer.source}},
        ),
        assistant=plan.assistant,
    )


def _audit_reply(plan: ReplyPlan, conversation: Conversation, reply: Message, source: str) -> None:
    audit.record(
        action=audit.AI_AUTO_REPLY_SENT,
        workspace_id=conversation.workspace_id,
        actor=None,
        target=("conversation", conversation.pk),
        data={
            "assistant": {"id": str(plan.assistant.pk), "name": plan.assistant.name},
            "message_id": str(reply.pk),
            "source": source,
        },
    )


@transaction.atomic
def auto_reply_finish(*, plan: ReplyPlan, answer: replies.Answer) -> Outcome:
    # The row lock orders us against ingestion, which updates this row for every message.
    conversation = Conversation.objects.select_for_update().get(pk=plan.conversation.pk)
    stale = _stale_reason(plan, conversation)
    if stale:
        _settle(plan, AutoReplyJob.Status.DISCARDED, stale)
        return Outcome(status=AutoReplyJob.Status.DISCARDED, reason=stale)
    if not answer.text:
        if not _settle(plan, AutoReplyJob.Status.HANDED_OFF, answer.error or "no_answer"):
            return Outcome(status=AutoReplyJob.Status.DISCARDED, reason="claim_lost")
        _hand_off(conversation, plan.assistant, answer.error or "no_answer")
        return Outcome(status=AutoReplyJob.Status.HANDED_OFF, reason=answer.error)
    if not _settle(plan, AutoReplyJob.Status.SENT, answer.source):
        return Outcome(status=AutoReplyJob.Status.DISCARDED, reason="claim_lost")
    reply = _send(plan, conversation, answer)
    AutoReplyJob.objects.filter(pk=plan.job_id).update(reply=reply)
    _audit_reply(plan, conversation, reply, answer.source)
    return Outcome(status=AutoReplyJob.Status.SENT, reason=answer.source, reply=reply)


def auto_reply_process(*, message_id, now: datetime | None = None, wait: bool = True) -> Outcome:
    """The whole decision for the job of ``message_id`` (what the task runs)."""
    prepared = auto_reply_prepare(message_id=message_id, now=now or timezone.now(), wait=wait)
    if isinstance(prepared, Outcome):
        return prepared
    return auto_reply_finish(plan=prepared, answer=reply_generate(plan=prepared))


# --- many due jobs at once ------------------------------------------------------------------------

DUE_BATCH = 500


@dataclass(frozen=True)
class DueJobs:
    """What one pass over the due jobs did: the jobs it claimed to answer, as (trigger message
    id, claim token) for ``auto_reply_answer``; how many it closed; when the next pending job
    falls due (None: none pending); whether more were due than one pass takes."""

    to_answer: list[tuple[str, str]]
    closed: int
    next_due: datetime | None
    more: bool


def _due_jobs(now: datetime) -> list[AutoReplyJob]:
    return list(
        AutoReplyJob.objects.select_related("conversation__integration")
        .filter(status=AutoReplyJob.Status.PENDING, due_at__lte=now)
        .order_by("due_at")[:DUE_BATCH]
    )


def _verdicts(
    jobs: list[AutoReplyJob], assistants: dict, now: datetime
) -> dict[tuple[str, str], list]:
    """Jobs grouped by what happens to them: (status, reason); ("", "") may be answered."""
    latest = selectors.latest_customer_message_ids(
        conversation_ids={job.conversation_id for job in jobs}
    )
    on_duty = {a.pk: assistant_on_duty(a, now) for a in set(assistants.values())}
    groups: dict[tuple[str, str], list] = {}
    for job in jobs:
        assistant = assistants.get(job.conversation_id)
        if latest.get(job.conversation_id, job.trigger_message_id) != job.trigger_message_id:
            verdict = (AutoReplyJob.Status.DISCARDED, "superseded")
        else:
            duty = on_duty[assistant.pk] if assistant is not None else None
            reason = _refusal(job.conversation, assistant, now, on_duty=duty)
            verdict = (AutoReplyJob.Status.SKIPPED, reason) if reason else ("", "")
        groups.setdefault(verdict, []).append(job)
    return groups


def _claimed(group: list[AutoReplyJob], assistants: dict, now: datetime) -> list[tuple[str, str]]:
    claims = ((job, _claim(job, assistants[job.conversation_id], now)) for job in group)
    return [(str(job.trigger_message_id), str(token)) for job, token in claims if token]


def auto_reply_answer(*, message_id, token) -> Outcome:
    """Steps 3 and 4 for a job ``auto_reply_decide_due`` claimed with ``token``. A lost claim
    (its lease ran out and the sweep took the job again) does nothing here."""
    job = _load_job(message_id)
    if job is None:
        return Outcome(status=MISSING)
    if job.status != AutoReplyJob.Status.CLAIMED or str(job.claim_token) != str(token):
        return Outcome(status=job.status, reason="claim_lost")
    plan = ReplyPlan(
        job_id=job.pk,
        token=job.claim_token,
        conversation=job.conversation,
        trigger=job.trigger_message,
        assistant=selectors.assistant_for_conversation(job.conversation),
        now=timezone.now(),
    )
    return auto_reply_finish(plan=plan, answer=reply_generate(plan=plan))


def _next_due() -> datetime | None:
    pending = AutoReplyJob.objects.filter(status=AutoReplyJob.Status.PENDING)
    return pending.order_by("due_at").values_list("due_at", flat=True).first()


def auto_reply_decide_due(*, now: datetime) -> DueJobs:
    """Step 1 for every job due by ``now``, in a few queries whatever their number: a burst of
    customers writing to an assistant that is off duty is settled in one UPDATE per reason
    instead of one task and four queries per message. The jobs that may be answered are
    claimed here (step 2) for ``auto_reply_answer``; the conditional UPDATEs leave any job
    another worker claimed meanwhile alone."""
    jobs = _due_jobs(now)
    assistants = selectors.assistants_for_conversations([job.conversation for job in jobs])
    closed, to_answer = 0, []
    for (status, reason), group in _verdicts(jobs, assistants, now).items():
        if not status:
            to_answer += _claimed(group, assistants, now)
            continue
        closed += AutoReplyJob.objects.filter(
            _claimable(now), pk__in=[job.pk for job in group]
        ).update(status=status, reason=reason, finished_at=now)
    return DueJobs(
        to_answer=to_answer, closed=closed, next_due=_next_due(), more=len(jobs) == DUE_BATCH
    )


# --- recovery ------------------------------------------------------------------------------------

SWEEP_HORIZON = timedelta(minutes=15)


def auto_reply_overdue(*, now: datetime) -> tuple[list[str], int]:
    """Jobs whose task never ran or whose worker died: (trigger ids to run again, expired).

    A job older than SWEEP_HORIZON is closed instead: an answer that late would only confuse.
    """
    grace = timedelta(seconds=conf.auto_reply_quiet_seconds() + 60)
    overdue = AutoReplyJob.objects.filter(_claimable(now), due_at__lt=now - grace)
    expired = overdue.filter(due_at__lt=now - SWEEP_HORIZON).update(
        status=AutoReplyJob.Status.SKIPPED, reason="expired", finished_at=now
    )
    ids = [str(pk) for pk in overdue.values_list("trigger_message_id", flat=True)[:500]]
    return ids, expired
