"""At most one reply per burst with real concurrent workers (PostgreSQL row locks)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection

from assistants import auto_reply
from assistants.models import AutoReplyJob
from assistants.tests.factories import AIAssistantFactory, AssistantFactory
from assistants.tests.fake_openai import Scripted
from conversations.models import ContactIdentity, Message
from conversations.services import InboundMessage
from conversations.tests.factories import ConversationFactory, MessageFactory
from flame.testing import race
from integrations.inbound import customer_message_receive as message_receive_inbound
from integrations.tests.factories import IntegrationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _pending_burst(workspace, assistant, size: int) -> list[Message]:
    """Customer messages with their reply jobs, written directly: in a transactional test the
    ingestion hook would run the (inline) reply task at once, before any race could start."""
    channel = IntegrationFactory(workspace=workspace, platform="whatsapp")
    conversation = ConversationFactory(
        workspace=workspace, integration=channel, assigned_assistant=assistant
    )
    messages = []
    for n in range(size):
        message = MessageFactory(conversation=conversation, integration=channel, content=f"m{n}")
        AutoReplyJob.objects.create(
            workspace=workspace,
            conversation=conversation,
            trigger_message=message,
            due_at=message.created_at + timedelta(seconds=4),
        )
        messages.append(message)
    return messages


def _replies() -> int:
    return Message.objects.filter(sender=Message.Sender.ASSISTANT).count()


def test_one_job_on_many_workers_replies_once(workspace):
    [message] = _pending_burst(workspace, AssistantFactory(workspace=workspace), 1)
    now = message.created_at + timedelta(seconds=5)

    outcomes = race(lambda n: auto_reply.auto_reply_process(message_id=message.pk, now=now), 6)

    assert [o.status for o in outcomes if o.reply is not None] == ["sent"]
    assert _replies() == 1
    assert AutoReplyJob.objects.get().attempts == 1


def test_every_job_of_a_burst_on_two_workers_replies_once(workspace):
    burst = _pending_burst(workspace, AssistantFactory(workspace=workspace), 3)
    now = burst[-1].created_at + timedelta(seconds=5)

    race(lambda n: auto_reply.auto_reply_process(message_id=burst[n % 3].pk, now=now), 6)

    assert _replies() == 1
    statuses = dict(AutoReplyJob.objects.values_list("trigger_message_id", "status"))
    assert [statuses[m.pk] for m in burst] == ["discarded", "discarded", "sent"]


def test_the_model_is_called_once_however_many_workers(workspace, openai_server):
    openai_server.then(*[Scripted(delay=0.3) for _ in range(4)])
    [message] = _pending_burst(workspace, AIAssistantFactory(workspace=workspace), 1)
    now = message.created_at + timedelta(seconds=5)

    race(lambda n: auto_reply.auto_reply_process(message_id=message.pk, now=now), 4)

    assert len(openai_server.chat_requests) == 1
    assert _replies() == 1


def test_a_message_arriving_during_generation_discards_it(workspace, openai_server):
    openai_server.then(Scripted(content="para m1", delay=1.0), Scripted(content="para m2"))
    assistant = AIAssistantFactory(workspace=workspace)
    [first] = _pending_burst(workspace, assistant, 1)
    conversation = first.conversation
    ContactIdentity.objects.create(
        contact=conversation.contact, integration=conversation.integration, external_id="521"
    )
    generating = threading.Thread(
        target=lambda: (
            auto_reply.auto_reply_process(message_id=first.pk, now=first.created_at, wait=False),
            connection.close(),
        )
    )

    generating.start()
    while not openai_server.chat_requests:  # the first generation is under way
        time.sleep(0.01)
    # The customer writes again; ingestion's hook answers the new burst inline (eager Celery).
    message_receive_inbound(
        integration=conversation.integration,
        inbound=InboundMessage(external_contact_id="521", external_id="late", content="m2"),
    )
    generating.join(timeout=10)

    job = AutoReplyJob.objects.get(trigger_message=first)
    assert (job.status, job.reason) == ("discarded", "newer_message")
    assert list(
        Message.objects.filter(sender=Message.Sender.ASSISTANT).values_list("content", flat=True)
    ) == ["para m2"]
