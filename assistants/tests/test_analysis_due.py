"""Analyses in bulk: a message marks its conversation due, one pass claims every due row, the
claimed conversations are analysed in chunks, and what arrives meanwhile is owed again. Also
the ``DueRun`` gate that keeps one scheduled run per kind however many messages ask."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assistants import analysis, due_runs, tasks
from assistants.models import AIUsage, ConversationAnalysis
from assistants.selectors import conversation_turns, conversations_turns
from assistants.tests.test_analysis import receive
from conversations.models import Conversation, Event
from conversations.tests.factories import ConversationFactory, MessageFactory
from flame import backpressure
from flame.testing import statement_verbs
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

QUIET = timedelta(seconds=10)


@pytest.fixture
def channel(workspace):
    return IntegrationFactory(workspace=workspace, platform="telegram")


def write(channel, text: str, n: int, contact: str = "42"):
    from conversations.services import InboundMessage
    from integrations.inbound import customer_message_receive

    inbound = InboundMessage(external_contact_id=contact, external_id=f"m{n}", content=text)
    return customer_message_receive(integration=channel, inbound=inbound).message


def _statements(captured) -> list[str]:
    return statement_verbs(captured, skip=("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))


def _due_at(conversation_id):
    return ConversationAnalysis.objects.get(pk=conversation_id).due_at


def test_a_message_marks_its_conversation_due_after_the_quiet_period(channel):
    before = timezone.now()
    message = receive(channel, "Hola")

    due_at = _due_at(message.conversation_id)

    assert before + QUIET <= due_at <= timezone.now() + QUIET


def test_a_later_message_moves_the_due_time_on(channel):
    first = receive(channel, "Hola")
    earlier = _due_at(first.conversation_id)
    time.sleep(0.01)
    receive(channel, "¿Siguen ahí?", n=2)

    assert _due_at(first.conversation_id) > earlier


def test_nothing_is_claimed_before_it_is_due(channel):
    message = receive(channel, "Hola")

    due = analysis.analyses_claim_due(now=timezone.now())

    assert due.claimed == []
    assert due.next_due == _due_at(message.conversation_id)


def test_one_pass_claims_every_due_conversation_and_runs_them(channel):
    messages = [
        write(channel, "URGENTE: mi pedido llegó roto", 1, contact="1"),
        write(channel, "¿Hacen envíos?", 2, contact="2"),
        write(channel, "Hola", 3, contact="3"),
    ]
    now = timezone.now() + QUIET + timedelta(seconds=1)

    with CaptureQueriesContext(connection) as claiming:
        due = analysis.analyses_claim_due(now=now)

    assert sorted(due.claimed) == sorted(str(m.conversation_id) for m in messages)
    assert (due.next_due, due.more) == (None, False)
    assert _statements(claiming) == ["SELECT", "UPDATE", "SELECT"]  # lock ids, claim, next due
    assert not ConversationAnalysis.objects.filter(due_at__isnull=False).exists()

    with CaptureQueriesContext(connection) as running:
        counts = analysis.analyses_run_claimed(
            conversation_ids=due.claimed, token=due.token, now=now
        )

    assert counts == {"analyzed": 3}
    usage_inserts = [q for q in running.captured_queries if '"assistants_aiusage"' in q["sql"]]
    assert len(usage_inserts) == 1  # the chunk's usage rows, together
    assert Conversation.objects.filter(ai_analyzed_at__isnull=False).count() == 3
    assert Conversation.objects.get(pk=messages[0].conversation_id).ai_priority == "urgent"
    assert AIUsage.objects.filter(purpose="analysis").count() == 3
    assert Event.objects.filter(kind="conversation:ai:update").count() == 3
    assert not ConversationAnalysis.objects.filter(claim_token__isnull=False).exists()


def test_a_second_pass_finds_nothing_new(channel):
    write(channel, "Hola", 1)
    now = timezone.now() + QUIET + timedelta(seconds=1)
    due = analysis.analyses_claim_due(now=now)
    analysis.analyses_run_claimed(conversation_ids=due.claimed, token=due.token, now=now)

    assert analysis.analyses_claim_due(now=now + QUIET).claimed == []


def test_a_message_during_the_run_is_owed_another_one(channel):
    first = write(channel, "Hola", 1)
    now = timezone.now() + QUIET + timedelta(seconds=1)
    due = analysis.analyses_claim_due(now=now)
    write(channel, "Una cosa más", 2)  # arrives while the run holds the claim

    analysis.analyses_run_claimed(conversation_ids=due.claimed, token=due.token, now=now)

    owed = _due_at(first.conversation_id)
    assert owed is not None
    assert analysis.analyses_next_due() == owed
    again = analysis.analyses_claim_due(now=owed + timedelta(seconds=1))
    assert again.claimed == [str(first.conversation_id)]


def test_a_claim_held_by_another_run_is_left_alone_until_its_lease_ends(channel):
    message = write(channel, "Hola", 1)
    now = timezone.now() + QUIET + timedelta(seconds=1)
    first = analysis.analyses_claim_due(now=now)
    write(channel, "Sigo aquí", 2)
    due_again = _due_at(message.conversation_id) + timedelta(seconds=1)

    assert analysis.analyses_claim_due(now=due_again).claimed == []  # the first run is alive

    lease_over = now + timedelta(seconds=analysis.conf.claim_lease_seconds() + 1)
    taken = analysis.analyses_claim_due(now=lease_over)
    assert taken.claimed == first.claimed  # its worker died: the lease ran out
    assert taken.token != first.token
    late = analysis.analyses_run_claimed(
        conversation_ids=first.claimed, token=first.token, now=lease_over
    )
    assert late == {"claim_lost": 1}  # the dead run's token writes nothing
    assert Conversation.objects.get().ai_analyzed_at is None


def test_conversations_with_nothing_to_do_are_released_in_one_statement(channel, workspace):
    write(channel, "Hola", 1, contact="1")
    write(channel, "Hola", 2, contact="2")
    workspace.settings = {"ai_analysis": False}
    workspace.save()
    now = timezone.now() + QUIET + timedelta(seconds=1)
    due = analysis.analyses_claim_due(now=now)

    with CaptureQueriesContext(connection) as running:
        counts = analysis.analyses_run_claimed(
            conversation_ids=due.claimed, token=due.token, now=now
        )

    assert counts == {"disabled": 2}
    # renew the claims, how far each was read, the conversations, one release
    assert _statements(running) == ["UPDATE", "SELECT", "SELECT", "UPDATE"]
    assert not ConversationAnalysis.objects.filter(claim_token__isnull=False).exists()
    assert Conversation.objects.filter(ai_analyzed_at__isnull=False).count() == 0


def test_an_agents_reply_marks_the_conversation_due(channel, admin_user):
    from conversations.services import OutboundDraft, message_send_agent

    message = write(channel, "Hola", 1)
    ConversationAnalysis.objects.update(due_at=None)
    conversation = Conversation.objects.get(pk=message.conversation_id)

    message_send_agent(
        by=admin_user, conversation=conversation, draft=OutboundDraft(content="Hola, ¿qué tal?")
    )

    assert _due_at(conversation.pk) is not None


# --- the gate --------------------------------------------------------------------------------


class Recorded:
    """Stands in for the Celery task (the broker is not what these tests are about)."""

    def __init__(self):
        self.calls = []

    def apply_async(self, kwargs, countdown):
        self.calls.append((kwargs["at"], countdown))


@pytest.fixture
def run():
    gate = due_runs.DueRun("test-due-run")
    cache.delete(gate.key)
    yield gate
    cache.delete(gate.key)


def test_a_burst_asks_for_one_run(run):
    task = Recorded()

    for _ in range(50):
        run.request(task, delay=10)

    assert len(task.calls) == 1
    at, countdown = task.calls[0]
    assert 9.5 < countdown <= 10.25
    assert cache.get(run.key) == at


def test_an_earlier_need_asks_for_an_earlier_run(run):
    task = Recorded()
    run.request(task, delay=10)
    run.request(task, delay=1)
    run.request(task, delay=5)  # the run at +1 s serves it

    assert [round(countdown) for _, countdown in task.calls] == [10, 1]


def test_a_started_run_lets_the_next_request_through(run):
    task = Recorded()
    run.request(task, delay=0)
    at, _ = task.calls[0]

    run.started(None)  # the periodic sweep's run is not the registered one
    run.request(task, delay=5)
    assert len(task.calls) == 1

    run.started(at)
    run.request(task, delay=5)
    assert len(task.calls) == 2


def test_eager_analyses_run_at_once(channel, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = write(channel, "URGENTE: no llega mi pedido", 1)

    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert conversation.ai_priority == "urgent"
    assert _due_at(conversation.pk) is None  # nothing left owed


def test_a_lost_claim_in_a_chunk_writes_nothing_and_keeps_the_others(channel):
    kept = write(channel, "URGENTE: mi pedido", 1, contact="1")
    lost = write(channel, "¿Hacen envíos?", 2, contact="2")
    now = timezone.now() + QUIET + timedelta(seconds=1)
    due = analysis.analyses_claim_due(now=now)
    ConversationAnalysis.objects.filter(pk=lost.conversation_id).update(
        claim_token="00000000-0000-0000-0000-000000000002"  # another run took it over
    )

    counts = analysis.analyses_run_claimed(conversation_ids=due.claimed, token=due.token, now=now)

    assert counts == {"analyzed": 1, "claim_lost": 1}
    assert Conversation.objects.get(pk=kept.conversation_id).ai_priority == "urgent"
    assert Conversation.objects.get(pk=lost.conversation_id).ai_analyzed_at is None
    assert Event.objects.filter(kind="conversation:ai:update").count() == 1


def test_a_chunk_that_waited_past_its_lease_calls_no_model_for_what_it_lost(channel, openai_server):
    write(channel, "Hola", 1)
    now = timezone.now() + QUIET + timedelta(seconds=1)
    queued = analysis.analyses_claim_due(now=now)
    write(channel, "¿Siguen ahí?", 2)
    lease_over = now + timedelta(seconds=analysis.conf.claim_lease_seconds() + 60)
    analysis.analyses_claim_due(now=lease_over)  # the next run takes the expired claim

    late = analysis.analyses_run_claimed(
        conversation_ids=queued.claimed, token=queued.token, now=lease_over
    )

    assert late == {"claim_lost": 1}
    assert openai_server.chat_requests == []
    assert not AIUsage.objects.exists()


def test_starting_renews_the_lease(channel):
    message = write(channel, "Hola", 1)
    now = timezone.now() + QUIET + timedelta(seconds=1)
    due = analysis.analyses_claim_due(now=now)
    later = now + timedelta(seconds=analysis.conf.claim_lease_seconds() - 1)

    analysis._renewed(due.claimed, due.token, later)

    state = ConversationAnalysis.objects.get(pk=message.conversation_id)
    assert state.claimed_until == later + timedelta(seconds=analysis.conf.claim_lease_seconds())


@pytest.mark.postgres
def test_the_last_messages_of_many_conversations_come_in_one_query(
    workspace, django_assert_num_queries
):
    """The chunk's transcripts: the same turns as one conversation's read, in one query."""
    start = timezone.now() - timedelta(hours=1)
    conversations = [ConversationFactory(workspace=workspace) for _ in range(3)]
    for n, conversation in enumerate(conversations):
        for i in range(4 + n):
            at = start + timedelta(seconds=i)
            MessageFactory(conversation=conversation, content=f"{n}-{i}", created_at=at)
        later = start + timedelta(minutes=5)
        MessageFactory(conversation=conversation, content="nota", private=True, created_at=later)
        MessageFactory(conversation=conversation, content="x", is_deleted=True, created_at=later)
    silent = ConversationFactory(workspace=workspace)
    ids = [c.pk for c in [*conversations, silent]]

    with django_assert_num_queries(1):
        many = conversations_turns(conversation_ids=ids, limit=3)

    assert many == {pk: conversation_turns(conversation_id=pk, limit=3) for pk in ids}
    assert [turn.content for turn in many[conversations[2].pk][0]] == ["2-3", "2-4", "2-5"]
    assert many[silent.pk] == ((), None)


# --- making way for a burst of ingestion (flame.backpressure) -----------------------------------


class RecordedRun:
    """Stands in for ``due_runs.ANALYSES``: the delays the analyses run asked to come back in."""

    def __init__(self):
        self.delays = []

    def started(self, at):
        pass

    def request(self, task, *, delay):
        self.delays.append(delay)


@pytest.fixture
def burst(monkeypatch):
    recorded = RecordedRun()
    monkeypatch.setattr(tasks.due_runs, "ANALYSES", recorded)
    backpressure.ingestion_backlogged()
    yield recorded
    cache.delete(backpressure.INGESTION_BUSY_KEY)


def _due_since(conversation_id, seconds: float) -> None:
    ConversationAnalysis.objects.filter(pk=conversation_id).update(
        due_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_an_analyses_run_waits_while_a_burst_is_ingested(channel, burst):
    message = write(channel, "URGENTE: mi pedido llegó roto", 1)
    _due_since(message.conversation_id, 5)

    claimed = tasks.analysis_due_task.run(at=None)  # as the worker runs it (not inline)

    assert claimed == 0
    assert burst.delays == [tasks.ANALYSES_YIELD_SECONDS]
    assert _due_at(message.conversation_id) is not None  # still owed, nothing claimed
    assert Conversation.objects.get(pk=message.conversation_id).ai_analyzed_at is None


def test_an_analysis_overdue_for_longer_than_a_burst_may_delay_it_runs_anyway(channel, burst):
    overdue = write(channel, "URGENTE: mi pedido llegó roto", 1, contact="1")
    recent = write(channel, "Hola", 2, contact="2")
    _due_since(overdue.conversation_id, analysis.ANALYSIS_MAX_WAIT.total_seconds() + 1)
    _due_since(recent.conversation_id, 1)

    claimed = tasks.analysis_due_task.run(at=None)

    assert claimed == 2  # the overdue one and, with it, everything else due
    analysed = Conversation.objects.filter(ai_analyzed_at__isnull=False)
    assert set(analysed.values_list("pk", flat=True)) == {
        overdue.conversation_id,
        recent.conversation_id,
    }
    assert burst.delays == []


def test_without_a_burst_or_inline_an_analyses_run_does_not_wait(channel, burst):
    message = write(channel, "Hola", 1)
    _due_since(message.conversation_id, 1)

    assert tasks.analysis_due_task.apply(kwargs={"at": None}).get() == 1  # inline: burst or not
    cache.delete(backpressure.INGESTION_BUSY_KEY)
    write(channel, "Otra cosa", 2)
    _due_since(message.conversation_id, 1)
    assert tasks.analysis_due_task.run(at=None) == 1
    assert burst.delays == []
