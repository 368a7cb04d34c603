"""Conversation counters moved by each new message, with F() so concurrent writers never lose
an update."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, DateTimeField, F, TextField, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from conversations.models import Conversation, Message
from conversations.services.events import preview


def customer_wrote_at(at) -> Greatest:
    return Greatest(Coalesce(F("last_customer_message_at"), Value(at)), Value(at))


def count_new_message(conversation: Conversation, message: Message) -> None:
    count_new_messages(conversation.pk, [message])


def count_new_messages(conversation_id, messages: list[Message]) -> None:
    """Move counters and the preview with F() so concurrent writers never lose an update.

    ``messages`` share one sender kind (a customer burst, or one outbound message).
    """
    message = max(messages, key=lambda item: item.created_at)
    at = message.created_at
    changes: dict[str, Any] = {
        "message_count": F("message_count") + len(messages),
        "last_message": Case(
            When(last_message_at__lte=at, then=Value(preview(message))),
            default=F("last_message"),
            output_field=TextField(),
        ),
        "last_message_sender": Case(
            When(last_message_at__lte=at, then=Value(message.sender)),
            default=F("last_message_sender"),
            output_field=TextField(),
        ),
        "last_message_at": Greatest(F("last_message_at"), Value(at)),
        "updated_at": timezone.now(),
    }
    if message.sender == Message.Sender.USER:
        changes["unread_count"] = F("unread_count") + len(messages)
        changes["last_customer_message_at"] = customer_wrote_at(at)
        first = min(item.created_at for item in messages)
        changes["waiting_since"] = Coalesce(F("waiting_since"), Value(first))
        # The customer wrote: a snoozed conversation is back in the open list.
        changes.update(snoozed=False, snoozed_until=None)
    else:
        changes["first_response_at"] = Coalesce(F("first_response_at"), Value(at))
        # Only a person answers: an assistant's "someone will get back to you" leaves the
        # conversation unread and waiting for a human.
        if message.sender == Message.Sender.AGENT:
            changes.update(_agent_answered(at))
    Conversation.objects.filter(pk=conversation_id).update(**changes)


def _agent_answered(at) -> dict[str, Any]:
    """An agent's message at ``at`` answers the customer, unless they wrote again after it
    (the late echo of a message sent from the phone app)."""
    return {
        "unread_count": 0,
        "last_agent_reply_at": Value(at),
        "waiting_since": Case(
            When(last_customer_message_at__gt=at, then=F("waiting_since")),
            default=Value(None),
            output_field=DateTimeField(),
        ),
    }
