"""Reply decisions in bulk: one pass over every job whose quiet period is over settles the ones
that get no answer (superseded, off duty, a person in charge, no assistant) in a few queries,
claims the rest for ``auto_reply_answer``, and reaches exactly the outcomes the one-job path
(``auto_reply_process``) reaches."""

from __future__ import annotations

from datetime import timedelta

import pytest

from assistants import auto_reply
from assistants.models import AutoReplyJob
from assistants.tests.factories import AssistantFactory
from assistants.tests.test_auto_reply import QUIET, channel_for, receive
from conversations.models import Conversation, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def fixed(workspace):
    return AssistantFactory(workspace=workspace, auto_response="Te respondemos en breve.")


@pytest.fixture
def asleep(workspace):
    """Replies only inside its schedules, and has none: never on duty."""
    return AssistantFactory(
        workspace=workspace, auto_response="Zzz", schedule_mode="inside", name="Dormido"
    )


def _jobs() -> dict[str, tuple[str, str]]:
    return {
        job.trigger_message.content: (job.status, job.reason)
        for job in AutoReplyJob.objects.select_related("trigger_message")
    }


def _a_mixed_burst(workspace, fixed, asleep, agent_user) -> list[Message]:
    awake, off = channel_for(workspace, fixed), channel_for(workspace, asleep)
    burst = [
        receive(awake, "Hola", 1, contact="521551"),
        receive(awake, "¿Abren hoy?", 2, contact="521551"),
        receive(off, "¿Hay alguien?", 3, contact="521552"),
        receive(awake, "Soy de Ana", 4, contact="521553"),
    ]
    Conversation.objects.filter(contact__identities__external_id="521553").update(
        assigned_agent=agent_user
    )
    return burst


def test_one_pass_settles_refusals_and_claims_the_answerable(workspace, fixed, asleep, agent_user):
    burst = _a_mixed_burst(workspace, fixed, asleep, agent_user)
    now = max(m.created_at for m in burst) + QUIET + timedelta(seconds=1)

    due = auto_reply.auto_reply_decide_due(now=now)

    assert _jobs() == {
        "Hola": ("discarded", "superseded"),
        "¿Abren hoy?": ("claimed", ""),
        "¿Hay alguien?": ("skipped", "off_duty"),
        "Soy de Ana": ("skipped", "human_in_charge"),
    }
    assert (due.closed, due.next_due, due.more) == (3, None, False)
    [(message_id, token)] = due.to_answer
    assert message_id == str(burst[1].pk)

    answered = auto_reply.auto_reply_answer(message_id=message_id, token=token)

    assert (answered.status, answered.reason) == ("sent", "auto_response")
    assert answered.reply.content == "Te respondemos en breve."
    assert _jobs()["¿Abren hoy?"] == ("sent", "auto_response")
    # A second pass finds nothing due; the one-job path agrees with every outcome.
    assert auto_reply.auto_reply_decide_due(now=now).to_answer == []
    again = [auto_reply.auto_reply_process(message_id=m.pk, now=now).status for m in burst]
    assert again == ["discarded", "sent", "skipped", "skipped"]
    assert Message.objects.filter(sender="assistant").count() == 1


def test_jobs_not_yet_due_wait_and_say_when(workspace, fixed):
    channel = channel_for(workspace, fixed)
    first = receive(channel, "Hola", 1, contact="521561")
    second = receive(channel, "Buenas", 2, contact="521562")
    AutoReplyJob.objects.filter(trigger_message=second).update(
        due_at=second.created_at + QUIET + timedelta(seconds=30)
    )
    now = first.created_at + QUIET + timedelta(seconds=1)

    due = auto_reply.auto_reply_decide_due(now=now)

    assert [m for m, _token in due.to_answer] == [str(first.pk)]
    assert due.next_due == AutoReplyJob.objects.get(trigger_message=second).due_at
    assert _jobs()["Buenas"] == ("pending", "")


def test_the_number_of_queries_does_not_grow_with_the_jobs(
    workspace, asleep, django_assert_max_num_queries
):
    channel = channel_for(workspace, asleep)
    one = [receive(channel, "Hola", 1, contact="521571")]
    now = one[0].created_at + QUIET + timedelta(seconds=1)
    # The jobs, the newest messages, the assistants and their schedules, the calendar's date,
    # one UPDATE per outcome, the next due job.
    with django_assert_max_num_queries(7) as single:
        auto_reply.auto_reply_decide_due(now=now)
    many = [receive(channel, f"Hola {n}", n, contact=f"52158{n}") for n in range(2, 42)]
    now = max(m.created_at for m in many) + QUIET + timedelta(seconds=1)

    with django_assert_max_num_queries(len(single.captured_queries)):
        due = auto_reply.auto_reply_decide_due(now=now)

    assert due.closed == 40
    assert set(_jobs().values()) == {("skipped", "off_duty")}


def test_an_answer_whose_claim_was_lost_does_nothing(workspace, fixed):
    message = receive(channel_for(workspace, fixed), "Hola", 1, contact="521591")
    now = message.created_at + QUIET + timedelta(seconds=1)
    [(message_id, token)] = auto_reply.auto_reply_decide_due(now=now).to_answer
    # The worker died; after the lease the sweep's one-job path took the job and answered.
    late = now + timedelta(minutes=10)
    taken = auto_reply.auto_reply_process(message_id=message.pk, now=late)

    stale = auto_reply.auto_reply_answer(message_id=message_id, token=token)

    assert (taken.status, stale.status, stale.reason) == ("sent", "sent", "claim_lost")
    assert Message.objects.filter(sender="assistant").count() == 1
