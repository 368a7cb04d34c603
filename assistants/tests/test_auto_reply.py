"""The automatic reply: debounce, claim, hand-off rules, schedules, fallbacks, quotas.

Tests drive the decision with an explicit ``now``; Celery runs inline in tests, and the
ingestion hook's on-commit work only runs where a test asks for it.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from assistants import auto_reply, services
from assistants.models import AIDailyUsage, AIUsage, AutoReplyJob
from assistants.tasks import auto_reply_task
from assistants.tests.factories import (
    AIAssistantFactory,
    AssistantFactory,
    KnowledgeDocumentFactory,
    ScheduleFactory,
)
from assistants.tests.fake_openai import Scripted
from conversations.models import Conversation, Event, Message
from conversations.services import (
    InboundMessage,
    OutboundDraft,
    message_send_agent,
)
from integrations.inbound import customer_message_receive as message_receive_inbound
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

QUIET = timedelta(seconds=4)


@pytest.fixture
def sales(workspace):
    assistant = AIAssistantFactory(workspace=workspace, name="Ventas")
    KnowledgeDocumentFactory(
        assistant=assistant, title="Envíos", content="Enviamos a todo México en 48 horas."
    )
    KnowledgeDocumentFactory(
        assistant=assistant, title="Pagos", content="Aceptamos tarjeta y transferencia."
    )
    services.knowledge_index_build(assistant_id=assistant.pk)
    return assistant


@pytest.fixture
def fixed(workspace):
    return AssistantFactory(workspace=workspace, auto_response="Te respondemos en breve.")


def channel_for(workspace, assistant):
    return IntegrationFactory(workspace=workspace, platform="whatsapp", default_assistant=assistant)


def receive(channel, text, n=1, contact="5215511111111") -> Message:
    inbound = InboundMessage(external_contact_id=contact, external_id=f"wamid.{n}", content=text)
    return message_receive_inbound(integration=channel, inbound=inbound).message


def after_quiet(message: Message) -> datetime:
    return message.created_at + QUIET + timedelta(seconds=1)


def assistant_messages() -> list[Message]:
    return list(Message.objects.filter(sender=Message.Sender.ASSISTANT))


# --- the basic flow ----------------------------------------------------------------------------


def test_fixed_reply_is_sent_after_the_quiet_period(workspace, fixed):
    message = receive(channel_for(workspace, fixed), "Hola")

    early = auto_reply.auto_reply_process(
        message_id=message.pk, now=message.created_at + timedelta(seconds=1)
    )
    done = auto_reply.auto_reply_process(message_id=message.pk, now=after_quiet(message))

    assert (early.status, early.retry_in) == ("wait", 3.0)
    assert (done.status, done.reason) == ("sent", "auto_response")
    reply = done.reply
    assert (reply.sender, reply.content, reply.assistant_id, reply.status) == (
        "assistant",
        "Te respondemos en breve.",
        fixed.pk,
        "queued",  # delivery happens exactly as for agents, after commit
    )
    assert reply.metadata["auto_reply"]["source"] == "auto_response"
    job = AutoReplyJob.objects.get()
    assert (job.status, job.reply_id, job.attempts) == ("sent", reply.pk, 1)
    assert Event.objects.filter(kind="message:new").count() == 2
    assert Conversation.objects.get().first_response_at == reply.created_at


def test_three_quick_messages_get_one_reply(workspace, fixed):
    channel = channel_for(workspace, fixed)
    burst = [receive(channel, text, n) for n, text in enumerate(["Hola", "¿Abren hoy?", "?"])]
    now = after_quiet(burst[-1])

    outcomes = [auto_reply.auto_reply_process(message_id=m.pk, now=now) for m in burst]

    assert [(o.status, o.reason) for o in outcomes] == [
        ("discarded", "superseded"),
        ("discarded", "superseded"),
        ("sent", "auto_response"),
    ]
    assert len(assistant_messages()) == 1
    again = [auto_reply.auto_reply_process(message_id=m.pk, now=now).status for m in burst]
    assert again == ["discarded", "discarded", "sent"]
    assert len(assistant_messages()) == 1


def test_task_run_twice_replies_once(workspace, fixed):
    message = receive(channel_for(workspace, fixed), "Hola")

    first = auto_reply_task.apply(args=[str(message.pk)]).get()
    second = auto_reply_task.apply(args=[str(message.pk)]).get()

    assert (first, second) == ("sent", "sent")
    assert len(assistant_messages()) == 1
    assert AutoReplyJob.objects.get().attempts == 1


def test_a_new_burst_after_a_reply_gets_its_own_reply(workspace, fixed):
    channel = channel_for(workspace, fixed)
    first = receive(channel, "Hola", 1)
    auto_reply.auto_reply_process(message_id=first.pk, now=after_quiet(first))
    second = receive(channel, "¿Siguen ahí?", 2)

    outcome = auto_reply.auto_reply_process(message_id=second.pk, now=after_quiet(second))

    assert outcome.status == "sent"
    assert len(assistant_messages()) == 2


def test_channel_without_assistant_records_no_job(workspace):
    channel = IntegrationFactory(workspace=workspace, platform="whatsapp")
    message = receive(channel, "Hola")

    assert AutoReplyJob.objects.count() == 0
    assert auto_reply.auto_reply_process(message_id=message.pk).status == "missing"


def test_the_conversation_assistant_wins_over_the_channel_default(workspace, fixed):
    own = AssistantFactory(workspace=workspace, auto_response="Respuesta propia")
    channel = channel_for(workspace, fixed)
    first = receive(channel, "Hola", 1)
    Conversation.objects.filter(pk=first.conversation_id).update(assigned_assistant=own)
    second = receive(channel, "¿Hola?", 2)

    outcome = auto_reply.auto_reply_process(message_id=second.pk, now=after_quiet(second))

    assert (outcome.reply.content, outcome.reply.assistant_id) == ("Respuesta propia", own.pk)


def test_another_workspace_assistant_is_never_used(workspace, outsider):
    foreign = AssistantFactory(workspace=outsider.workspace)
    channel = channel_for(workspace, foreign)
    message = receive(channel, "Hola")

    outcome = auto_reply.auto_reply_process(message_id=message.pk, now=after_quiet(message))

    assert (outcome.status, outcome.reason) == ("skipped", "no_assistant")
    assert assistant_messages() == []


# --- who may answer ----------------------------------------------------------------------------


def test_inactive_assistant_does_not_reply(workspace, fixed):
    fixed.status = "inactive"
    fixed.save()
    message = receive(channel_for(workspace, fixed), "Hola")

    outcome = auto_reply.auto_reply_process(message_id=message.pk, now=after_quiet(message))

    assert (outcome.status, outcome.reason) == ("skipped", "assistant_inactive")
    assert assistant_messages() == []


def test_no_reply_once_an_agent_is_assigned(workspace, fixed, agent_user):
    message = receive(channel_for(workspace, fixed), "Hola")
    Conversation.objects.filter(pk=message.conversation_id).update(assigned_agent=agent_user)

    outcome = auto_reply.auto_reply_process(message_id=message.pk, now=after_quiet(message))

    assert (outcome.status, outcome.reason) == ("skipped", "human_in_charge")
    assert assistant_messages() == []


def test_no_reply_while_an_agent_replied_recently(workspace, fixed, admin_user):
    channel = channel_for(workspace, fixed)
    first = receive(channel, "Hola", 1)
    message_send_agent(
        by=admin_user, conversation=first.conversation, draft=OutboundDraft(content="Soy Ana")
    )
    second = receive(channel, "Gracias Ana", 2)

    outcome = auto_reply.auto_reply_process(message_id=second.pk, now=after_quiet(second))

    assert (outcome.status, outcome.reason) == ("skipped", "human_in_charge")


def test_assistant_answers_again_after_the_handoff_quiet_time(workspace, fixed, admin_user):
    channel = channel_for(workspace, fixed)
    message = receive(channel, "Hola", 1)
    message_send_agent(
        by=admin_user, conversation=message.conversation, draft=OutboundDraft(content="Soy Ana")
    )
    later = receive(channel, "¿Hola?", 2)
    now = after_quiet(later) + timedelta(minutes=fixed.handoff_quiet_minutes)

    assert auto_reply.auto_reply_process(message_id=later.pk, now=now).status == "sent"


def _next_local(workspace, weekday: int, hour: int) -> datetime:
    """The next instant at ``hour`` on ``weekday`` (0 = Sunday) in the workspace timezone."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(workspace.timezone)
    day = timezone.now().astimezone(zone).date() + timedelta(days=1)
    while (day.weekday() + 1) % 7 != weekday:
        day += timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


@pytest.mark.parametrize(
    ("mode", "hour", "expected"),
    [
        ("inside", 10, ("sent", "auto_response")),
        ("inside", 20, ("skipped", "off_duty")),
        ("outside", 10, ("skipped", "off_duty")),
        ("outside", 20, ("sent", "auto_response")),
    ],
)
def test_schedule_decides_whether_to_reply(workspace, fixed, mode, hour, expected):
    fixed.schedule_mode = mode
    fixed.save()
    ScheduleFactory(assistant=fixed, day_of_week=1, start_time=time(9), end_time=time(18))
    message = receive(channel_for(workspace, fixed), "Hola")

    now = _next_local(workspace, 1, hour)
    outcome = auto_reply.auto_reply_process(message_id=message.pk, now=now)

    assert (outcome.status, outcome.reason) == expected


# --- AI replies --------------------------------------------------------------------------------


def test_ai_reply_asks_the_model_with_prompt_history_and_knowledge(workspace, sales, openai_server):
    channel = channel_for(workspace, sales)
    receive(channel, "Hola", 1)
    last = receive(channel, "¿Hacen envíos a domicilio?", 2)

    outcome = auto_reply.auto_reply_process(message_id=last.pk, now=after_quiet(last))

    assert (outcome.status, outcome.reason) == ("sent", "ai")
    assert outcome.reply.content == "¡Hola! Claro, con gusto te ayudo."
    sent = openai_server.chat_requests[0]
    assert sent.system_prompt.startswith(sales.ai_prompt)
    assert "[1] Envíos\nEnviamos a todo México en 48 horas." in sent.system_prompt
    assert "Pagos" not in sent.system_prompt
    assert sent.messages[1:] == [
        {"role": "user", "content": "Hola"},
        {"role": "user", "content": "¿Hacen envíos a domicilio?"},
    ]
    assert (sent.body["model"], sent.body["temperature"], sent.body["max_tokens"]) == (
        "gpt-4o-mini",
        0.3,
        200,
    )
    usage = AIUsage.objects.get()
    assert (usage.purpose, usage.provider, usage.model) == ("reply", "openai", "gpt-4o-mini")
    assert (usage.prompt_tokens, usage.completion_tokens, usage.succeeded) == (42, 8, True)
    assert usage.cost == Decimal("0.000011")  # (42 * 0.15 + 8 * 0.60) per million
    assert (usage.assistant_id, usage.conversation_id, usage.workspace_id) == (
        sales.pk,
        last.conversation_id,
        workspace.pk,
    )


def test_assistant_without_model_uses_the_default(workspace, sales, openai_server, settings):
    settings.OPENAI_MODEL = "llama3.1"
    sales.model = ""
    sales.save()
    message = receive(channel_for(workspace, sales), "Hola")

    auto_reply.auto_reply_process(message_id=message.pk, now=after_quiet(message))

    assert openai_server.chat_requests[0].body["model"] == "llama3.1"
    assert AIUsage.objects.get().cost == Decimal(0)  # not in the price table


def test_history_is_bounded_and_includes_agents_and_assistant(
    workspace, sales, openai_server, settings, admin_user
):
    settings.AUTO_REPLY_HISTORY_MESSAGES = 3
    channel = channel_for(workspace, sales)
    first = receive(channel, "uno", 1)
    receive(channel, "dos", 2)
    message_send_agent(by=admin_user, conversation=first.conversation, draft=OutboundDraft("tres"))
    last = receive(channel, "cuatro", 3)
    now = after_quiet(last) + timedelta(minutes=sales.handoff_quiet_minutes)

    auto_reply.auto_reply_process(message_id=last.pk, now=now)

    assert [m["content"] for m in openai_server.chat_requests[0].messages[1:]] == [
        "dos",
        "tres",
        "cuatro",
    ]


@pytest.mark.parametrize(
    ("scripted", "code"),
    [
        (Scripted(status=429, headers={"retry-after-ms": "1"}), "rate_limited"),
        (Scripted(status=500, headers={"retry-after-ms": "1"}), "server_error"),
        (Scripted(delay=1.0), "timeout"),
    ],
)
def test_llm_failure_falls_back_to_the_fixed_reply(
    workspace, sales, openai_server, settings, scripted, code
):
    settings.OPENAI_TIMEOUT_SECONDS = 0.3
    openai_server.then(scripted)
    message = receive(channel_for(workspace, sales), "Hola")

    outcome = auto_reply.auto_reply_process(message_id=message.pk, now=after_quiet(message))

    assert (outcome.status, outcome.reason) == ("sent", "auto_response")
    assert outcome.reply.content == "Gracias, una persona te responde en breve."
    usage = AIUsage.objects.get()
    assert (usage.succeeded, usage.error_code, usage.prompt_tokens) == (False, code, 0)


def test_llm_failure_without_fixed_reply_hands_off_to_agents(workspace, sales, openai_server):
    sales.auto_response = ""
    sales.save()
    openai_server.then(Scripted(status=500))
    message = receive(channel_for(workspace, sales), "Hola")

    outcome = auto_reply.auto_reply_process(message_id=message.pk, now=after_quiet(message))

    assert (outcome.status, outcome.reason) == ("handed_off", "server_error")
    assert assistant_messages() == []
    assert Conversation.objects.get().status == "pending"
    event = Event.objects.filter(kind="conversation:updated").last()
    assert event.payload["handoff"] == {"reason": "server_error", "assistant_id": str(sales.pk)}
    assert event.payload["conversation"]["status"] == "pending"
    assert AutoReplyJob.objects.get().status == "handed_off"


def test_exhausted_quota_falls_back_without_calling_the_model(workspace, sales, openai_server):
    workspace.plan = "free"
    workspace.save()
    message = receive(channel_for(workspace, sales), "Hola")
    AIDailyUsage.objects.create(
        workspace=workspace, day=_local_today(workspace), requests=100, tokens=10
    )

    outcome = auto_reply.auto_reply_process(message_id=message.pk, now=after_quiet(message))

    assert (outcome.status, outcome.reply.content) == ("sent", sales.auto_response)
    assert openai_server.chat_requests == []
    assert AIUsage.objects.count() == 0


def _local_today(workspace):
    from zoneinfo import ZoneInfo

    return timezone.now().astimezone(ZoneInfo(workspace.timezone)).date()


# --- local provider ----------------------------------------------------------------------------


def test_local_provider_answers_from_the_knowledge_base(workspace, sales):
    message = receive(channel_for(workspace, sales), "¿Hacen envíos?")

    outcome = auto_reply.auto_reply_process(message_id=message.pk, now=after_quiet(message))

    assert (outcome.status, outcome.reason) == ("sent", "knowledge")
    assert outcome.reply.content == "Enviamos a todo México en 48 horas."
    usage = AIUsage.objects.get()
    assert (usage.provider, usage.model, usage.cost) == ("local", "local", Decimal(0))


def test_local_provider_without_a_match_sends_the_fixed_reply(workspace, sales):
    message = receive(channel_for(workspace, sales), "¿Venden bicicletas rojas?")

    outcome = auto_reply.auto_reply_process(message_id=message.pk, now=after_quiet(message))

    assert (outcome.reason, outcome.reply.content) == ("auto_response", sales.auto_response)


# --- races the steps must survive --------------------------------------------------------------


def test_a_newer_message_discards_the_pending_generation(workspace, sales, openai_server):
    channel = channel_for(workspace, sales)
    first = receive(channel, "Hola", 1)
    plan = auto_reply.auto_reply_prepare(message_id=first.pk, now=after_quiet(first))
    answer = auto_reply.reply_generate(plan=plan)
    newer = receive(channel, "Quiero un pastel", 2)  # arrives while the model was answering

    outcome = auto_reply.auto_reply_finish(plan=plan, answer=answer)

    assert (outcome.status, outcome.reason) == ("discarded", "newer_message")
    assert assistant_messages() == []
    final = auto_reply.auto_reply_process(message_id=newer.pk, now=after_quiet(newer))
    assert final.status == "sent"
    assert len(assistant_messages()) == 1
    assert [m["content"] for m in openai_server.chat_requests[1].messages[1:]] == [
        "Hola",
        "Quiero un pastel",
    ]


def test_an_agent_taking_over_during_generation_discards_it(workspace, fixed, agent_user):
    message = receive(channel_for(workspace, fixed), "Hola")
    plan = auto_reply.auto_reply_prepare(message_id=message.pk, now=after_quiet(message))
    answer = auto_reply.reply_generate(plan=plan)
    Conversation.objects.filter(pk=message.conversation_id).update(assigned_agent=agent_user)

    outcome = auto_reply.auto_reply_finish(plan=plan, answer=answer)

    assert (outcome.status, outcome.reason) == ("discarded", "human_in_charge")
    assert assistant_messages() == []


def test_a_second_preparation_while_claimed_does_nothing(workspace, fixed):
    message = receive(channel_for(workspace, fixed), "Hola")
    now = after_quiet(message)
    plan = auto_reply.auto_reply_prepare(message_id=message.pk, now=now)

    second = auto_reply.auto_reply_prepare(message_id=message.pk, now=now)

    assert isinstance(plan, auto_reply.ReplyPlan)
    assert (second.status, second.reason) == ("claimed", "already_handled")


def test_an_expired_claim_is_taken_over_and_the_late_worker_is_fenced_out(workspace, fixed):
    message = receive(channel_for(workspace, fixed), "Hola")
    now = after_quiet(message)
    stuck = auto_reply.auto_reply_prepare(message_id=message.pk, now=now)
    later = now + timedelta(hours=1)
    retaken = auto_reply.auto_reply_prepare(message_id=message.pk, now=later)

    late = auto_reply.auto_reply_finish(plan=stuck, answer=auto_reply.reply_generate(plan=stuck))
    fresh = auto_reply.auto_reply_finish(
        plan=retaken, answer=auto_reply.reply_generate(plan=retaken)
    )

    assert (late.status, late.reason) == ("discarded", "claim_lost")
    assert fresh.status == "sent"
    assert len(assistant_messages()) == 1
    assert AutoReplyJob.objects.get().attempts == 2


def test_overdue_jobs_are_found_again_and_stale_ones_expire(workspace, fixed):
    channel = channel_for(workspace, fixed)
    recent = receive(channel, "Hola", 1, contact="1")
    old = receive(channel, "Hola", 2, contact="2")
    AutoReplyJob.objects.filter(trigger_message=old).update(
        due_at=timezone.now() - timedelta(hours=2)
    )

    ids, expired = auto_reply.auto_reply_overdue(now=after_quiet(recent) + timedelta(minutes=2))

    assert (ids, expired) == ([str(recent.pk)], 1)
    assert AutoReplyJob.objects.get(trigger_message=old).reason == "expired"


# --- the ingestion hook end to end ---------------------------------------------------------------


def test_ingestion_hook_replies_and_analyses_inline(
    workspace, sales, django_capture_on_commit_callbacks
):
    channel = channel_for(workspace, sales)

    with django_capture_on_commit_callbacks(execute=True):
        receive(channel, "¿Hacen envíos?")

    reply = Message.objects.get(sender=Message.Sender.ASSISTANT)
    assert reply.content == "Enviamos a todo México en 48 horas."
    conversation = Conversation.objects.get()
    assert conversation.ai_tags == ["shipping"]
    assert sorted(AIUsage.objects.values_list("purpose", flat=True)) == ["analysis", "reply"]


def test_duplicate_delivery_of_a_message_adds_no_job(workspace, fixed):
    channel = channel_for(workspace, fixed)
    receive(channel, "Hola")
    receive(channel, "Hola")

    assert AutoReplyJob.objects.count() == 1


def test_local_provider_finds_the_question_inside_a_burst(workspace, sales):
    channel = channel_for(workspace, sales)
    burst = [
        receive(channel, text, n)
        for n, text in enumerate(["Hola", "una pregunta", "¿Hacen envíos a domicilio?"])
    ]

    outcome = auto_reply.auto_reply_process(message_id=burst[-1].pk, now=after_quiet(burst[-1]))

    assert (outcome.reason, outcome.reply.content) == (
        "knowledge",
        "Enviamos a todo México en 48 horas.",
    )


def test_a_reaction_neither_gets_a_reply_nor_cancels_one(workspace, fixed):
    channel = channel_for(workspace, fixed)
    question = receive(channel, "¿Abren hoy?", 1)
    reaction = message_receive_inbound(
        integration=channel,
        inbound=InboundMessage(
            external_contact_id="5215511111111",
            external_id="wamid.r",
            content="👍",
            type="reaction",
        ),
    ).message

    outcome = auto_reply.auto_reply_process(message_id=question.pk, now=after_quiet(reaction))

    assert AutoReplyJob.objects.filter(trigger_message=reaction).exists() is False
    assert outcome.status == "sent"
