"""Demo history: four weeks of past conversations, so the dashboard has something to show.

Services stamp "now" on everything they write, so this history is inserted directly, with the
same fields the services keep (counters, last sender, first response, resolution), plus the
satisfaction surveys and ratings a workspace with surveys on would have collected. It is
deterministic and written once: a second ``seed_demo`` finds it and adds nothing.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from assistants.demo import sales_assistant
from conversations.models import Contact, Conversation, Message
from integrations.demo import sandbox_for
from satisfaction.models import SatisfactionRating, SatisfactionSurvey

HISTORY_DAYS = 28
CUSTOMERS = (
    "Ana Torres", "Luis Herrera", "Sofía Ramírez", "Diego Morales", "Valentina Cruz",
    "Mateo Jiménez", "Camila Rojas", "Sebastián Vargas", "Olivia Brown", "Noah Wilson",
    "Isabella Castro", "Emma Davis", "Javier Ortega", "Renata Flores", "Liam Smith",
)  # fmt: skip
QUESTIONS = (
    ("¿Hacen pasteles sin gluten?", "Sí, de chocolate y zanahoria, con 48 horas de aviso."),
    ("¿Cuánto cuesta el envío a Puebla?", "El envío a Puebla cuesta $150 y tarda 2 días."),
    ("Do you deliver on Sundays?", "Yes, Sunday deliveries run from 9:00 to 14:00."),
    ("Quiero cambiar la dirección de mi pedido", "Listo, actualizamos la dirección del pedido."),
    ("Can I get an invoice for my order?", "Of course, we've just e-mailed it to you."),
    ("¿Tienen opciones veganas?", "Sí, tenemos pastel vegano de frutos rojos."),
)
SCORES = (5, 5, 5, 5, 4, 4, 4, 3, 2, 1)  # mostly happy customers, as in most shops
PRIORITIES = ("low", "medium", "medium", "high", "urgent", "")
# What the customer sent was delivered to us; our answers were read long ago.
_STATUS_OF = {
    Message.Sender.USER: Message.Status.DELIVERED,
    Message.Sender.AGENT: Message.Status.READ,
    Message.Sender.ASSISTANT: Message.Status.READ,
}


def _history_exists(workspace) -> bool:
    return Contact.objects.filter(workspace=workspace, metadata__demo_history=True).exists()


class _History:
    """Builds the rows in memory; ``save`` writes them with one INSERT per table."""

    def __init__(self, context, sandbox, assistant) -> None:
        self.context, self.sandbox, self.assistant = context, sandbox, assistant
        self.rng = random.Random(2026)  # noqa: S311 - the same history on every machine
        self.zone = ZoneInfo(context.workspace.timezone)
        self.rows: dict[type, list] = {
            Contact: [],
            Conversation: [],
            Message: [],
            SatisfactionSurvey: [],
            SatisfactionRating: [],
        }

    def _message(self, conversation, sender, content, at, **extra) -> Message:
        message = Message(
            conversation=conversation,
            workspace_id=conversation.workspace_id,
            integration=self.sandbox,
            sender=sender,
            content=content,
            status=_STATUS_OF[sender],
            created_at=at,
            **extra,
        )
        self.rows[Message].append(message)
        return message

    def _answerer(self) -> dict:
        if self.assistant is not None and self.rng.random() < 0.4:
            return {"sender": Message.Sender.ASSISTANT, "assistant": self.assistant}
        author = self.rng.choice([self.context.agent, self.context.agent, self.context.admin])
        return {"sender": Message.Sender.AGENT, "author": author}

    def conversation(self, day) -> None:
        rng = self.rng
        opened = datetime.combine(day, time(rng.randint(8, 20), rng.randint(0, 59)), self.zone)
        question, answer = rng.choice(QUESTIONS)
        contact = Contact(
            workspace=self.context.workspace,
            name=rng.choice(CUSTOMERS),
            metadata={"demo_history": True},
            created_at=opened,
        )
        answerer = self._answerer()
        ai_priority = rng.choice(PRIORITIES)
        replied = opened + timedelta(minutes=rng.randint(1, 90))
        resolved = replied + timedelta(minutes=rng.randint(5, 600))
        conversation = Conversation(
            workspace=self.context.workspace,
            integration=self.sandbox,
            contact=contact,
            platform=self.sandbox.platform,
            status=Conversation.Status.RESOLVED,
            # Nobody changed it: the AI's priority is the conversation's (medium if none).
            priority=ai_priority or Conversation.Priority.MEDIUM,
            ai_priority=ai_priority,
            assigned_agent=answerer.get("author"),
            assigned_assistant=self.assistant,
            last_message=answer,
            last_message_sender=answerer["sender"],
            last_message_at=replied,
            last_customer_message_at=opened,
            message_count=2,
            first_response_at=replied,
            resolved_at=resolved,
            created_at=opened,
        )
        self.rows[Contact].append(contact)
        self.rows[Conversation].append(conversation)
        self._message(conversation, Message.Sender.USER, question, opened)
        self._message(conversation, content=answer, at=replied, **answerer)
        self._survey(conversation, resolved)

    def _survey(self, conversation, sent_at) -> None:
        survey = SatisfactionSurvey(
            workspace=conversation.workspace,
            conversation=conversation,
            agent=conversation.assigned_agent,
            assistant=conversation.assigned_assistant,
            sent_at=sent_at,
        )
        self.rows[SatisfactionSurvey].append(survey)
        if self.rng.random() < 0.3:
            return  # not every customer answers
        survey.answered_at = sent_at + timedelta(minutes=self.rng.randint(1, 120))
        self.rows[SatisfactionRating].append(
            SatisfactionRating(
                workspace=conversation.workspace,
                conversation=conversation,
                survey=survey,
                score=self.rng.choice(SCORES),
                agent=survey.agent,
                assistant=survey.assistant,
                created_at=survey.answered_at,
            )
        )

    def save(self) -> None:
        for model, rows in self.rows.items():
            model.objects.bulk_create(rows)


def seed_into(context) -> None:
    if _history_exists(context.workspace):
        return
    sandbox = sandbox_for(context.workspace)
    history = _History(context, sandbox, sales_assistant(context.workspace))
    today = timezone.localdate(timezone=history.zone)
    for days_ago in range(HISTORY_DAYS, 0, -1):
        for _ in range(history.rng.randint(2, 6)):
            history.conversation(today - timedelta(days=days_ago))
    history.save()
