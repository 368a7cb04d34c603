"""The process's ingest trigger: webhooks mark, one thread asks for the drain task."""

from __future__ import annotations

import threading
import time

import pytest
from prometheus_client import REGISTRY

from integrations import ingest, trigger
from integrations.tasks import ingest_webhook_event_task
from integrations.tests.factories import IntegrationFactory


class Answers:
    """A stand-in for the ask (Redis and the broker): records each ask, answers ``hold``."""

    def __init__(self, hold: float, fail_first: bool = False) -> None:
        self.hold = hold
        self.fail_first = fail_first
        self.asked: list[tuple[int, float | None]] = []
        self.called = threading.Condition()

    def __call__(self, event_id: int, linger: float | None) -> float:
        with self.called:
            self.asked.append((event_id, linger))
            self.called.notify_all()
        if self.fail_first and len(self.asked) == 1:
            raise ConnectionError("broker away")
        return self.hold

    def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple[int, float | None]]:
        with self.called:
            assert self.called.wait_for(lambda: len(self.asked) >= count, timeout), self.asked
            return list(self.asked)


def test_webhooks_marked_while_an_answer_holds_are_asked_for_once_after_it():
    # given: the first ask enqueues a lingering task (its answer holds 0.3 s)
    answers = Answers(hold=0.3)
    process = trigger.ProcessTrigger(answers)
    process.request(1, 0.6)
    assert answers.wait_for(1) == [(1, 0.6)]

    # when: forty more webhooks are stored meanwhile
    started = time.monotonic()
    for event_id in range(2, 42):
        process.request(event_id, 0.6)

    # then: one more ask, for the latest, once the first answer stopped holding
    assert answers.wait_for(2)[1] == (41, 0.6)
    assert time.monotonic() - started >= 0.2
    time.sleep(0.4)
    assert len(answers.asked) == 2


def test_a_webhook_is_asked_for_at_once_when_no_answer_holds():
    answers = Answers(hold=0.0)
    process = trigger.ProcessTrigger(answers)

    started = time.monotonic()
    process.request(7, None)

    assert answers.wait_for(1) == [(7, None)]
    assert time.monotonic() - started < 0.5
    process.request(8, None)
    assert answers.wait_for(2)[1] == (8, None)


def test_when_a_task_was_pending_the_next_webhook_is_asked_for_again_soon():
    # given: each ask finds a task already on its way (it may start any moment)
    answers = Answers(hold=trigger.RECHECK_SECONDS)
    process = trigger.ProcessTrigger(answers)
    process.request(1, 0.2)
    answers.wait_for(1)

    # when: a webhook is stored right after
    process.request(2, 0.2)

    # then: asked for within the recheck pause, not after a linger
    started = time.monotonic()
    assert answers.wait_for(2)[1] == (2, 0.2)
    assert time.monotonic() - started < 0.15


def test_a_failed_ask_does_not_stop_the_thread():
    answers = Answers(hold=0.0, fail_first=True)
    process = trigger.ProcessTrigger(answers)
    process.request(1, None)
    answers.wait_for(1)

    process.request(2, None)

    # asked again after the pause for an unreachable broker
    assert answers.wait_for(2, timeout=trigger.AWAY_SECONDS + 5)[1] == (2, None)


def test_flush_asks_at_once_for_what_was_marked_and_nothing_else(monkeypatch):
    # given: a marked webhook whose thread has not asked yet (as at a worker's exit)
    answers = Answers(hold=0.0)
    process = trigger.ProcessTrigger(answers)
    monkeypatch.setattr(process, "_ensure_thread", lambda: None)
    process.request(5, None)

    # when / then
    assert process.flush() == 0.0
    assert answers.asked == [(5, None)]
    assert process.flush() == 0.0
    assert answers.asked == [(5, None)]


def test_a_forked_process_gets_a_thread_of_its_own(monkeypatch):
    answers = Answers(hold=0.0)
    process = trigger.ProcessTrigger(answers)
    process.request(1, None)
    answers.wait_for(1)
    parents = process._thread

    # when: the same object is used in a child process (another pid)
    monkeypatch.setattr(trigger.os, "getpid", lambda: -1)
    process.request(2, None)

    assert process._thread is not parents
    assert answers.wait_for(2)[1] == (2, None)


@pytest.mark.django_db
def test_the_answers_say_how_long_they_hold(workspace, monkeypatch, settings):
    # given: batching (as on PostgreSQL) and an event stored; the task runs inline here
    monkeypatch.setattr(ingest, "_batching", lambda: True)
    monkeypatch.setattr(ingest, "_continue_draining", lambda event_id: None)
    channel = IntegrationFactory(workspace=workspace, platform="sandbox", external_account_id="sb")
    event = ingest.sandbox_message_store(
        integration=channel, sender="+5215500", name="Ana", text="hola", message_id="t-1"
    )
    ran = []
    monkeypatch.setattr(
        ingest_webhook_event_task, "apply_async", lambda args, **options: ran.append(options)
    )
    ingest.ingest_trigger_clear()

    # then: no task on its way -> one enqueued with the linger, holding for half of it
    assert ingest._trigger_now(event.pk, 0.2) == pytest.approx(0.1)
    assert ran == [{"countdown": 0.2, "retry": False}]
    # a task pending -> nothing enqueued, ask again soon
    assert ingest._trigger_now(event.pk, 0.2) == trigger.RECHECK_SECONDS
    assert len(ran) == 1
    # no linger (a quiet channel) -> enqueued to start at once, holding for nothing
    ingest.ingest_trigger_clear()
    assert ingest._trigger_now(event.pk, None) == 0.0
    # Redis away -> the sweeper's business, ask again after a pause
    settings.CACHES = {
        "default": {
            "BACKEND": "flame.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    assert ingest._trigger_now(event.pk, 0.2) == trigger.AWAY_SECONDS
    assert len(ran) == 2


def test_a_task_found_pending_is_overdue_only_after_the_whole_period():
    watch = ingest.PendingWatch(overdue=1.0)

    # first found pending at 10.0: not overdue until a full second later
    assert watch.still_pending(10.0) is False
    assert watch.still_pending(10.9) is False
    assert watch.still_pending(11.0) is True
    # one extra ask per period while it stays pending
    assert watch.still_pending(11.5) is False
    assert watch.still_pending(12.0) is True
    # none pending resets the clock
    watch.none_pending()
    assert watch.still_pending(12.1) is False
    assert watch.still_pending(13.0) is False
    assert watch.still_pending(13.1) is True


def _overdue_asks() -> float:
    return REGISTRY.get_sample_value("flame_ingest_overdue_asks_total") or 0.0


@pytest.mark.django_db
def test_a_pending_task_that_never_starts_is_asked_around(workspace, monkeypatch):
    # given: batching, a drain task marked pending that never starts (a held-up pool process)
    monkeypatch.setattr(ingest, "_batching", lambda: True)
    monkeypatch.setattr(ingest, "_pending", ingest.PendingWatch(overdue=0.05))
    ran = []
    monkeypatch.setattr(
        ingest_webhook_event_task, "apply_async", lambda args, **options: ran.append(options)
    )
    ingest.ingest_trigger_clear()
    asked_again = _overdue_asks()
    assert ingest._trigger_now(1, 0.2) == pytest.approx(0.1)  # the task that will not start

    # when: webhooks keep coming while it stays pending
    answers = [ingest._trigger_now(2, 0.2)]
    time.sleep(0.06)
    answers.append(ingest._trigger_now(3, 0.2))

    # then: the first finds it pending; once overdue another task is asked for, at once
    assert answers == [trigger.RECHECK_SECONDS, 0.0]
    assert ran == [{"countdown": 0.2, "retry": False}, {"countdown": None, "retry": False}]
    # and the clock restarts: the next webhook trusts the new task for another period
    assert ingest._trigger_now(4, 0.2) == trigger.RECHECK_SECONDS
    assert len(ran) == 2
    # (read last: collecting the registry takes long enough in a full run to outlast 50 ms)
    assert _overdue_asks() - asked_again == 1  # operators see it
