"""Private notes: what agents write to each other in a thread.

A note is a ``Message`` with ``private`` set and the agent as sender: it is stored ``sent``
with no channel, so nothing ever delivers it; it moves none of the conversation's counters
(unread, waiting for a human, first response, last message), so it never counts as an answer
to the customer; and it is found by search and shown in the history like any message. The
members it ``@mentions`` (among those who may see the conversation) are announced on
``hooks.note_added``.
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from conversations import hooks
from conversations.mentions import mentioned
from conversations.models import Conversation, Message
from conversations.selectors import mention_candidates
from conversations.services.conversations import ensure_can_act
from conversations.services.events import message_new
from flame.exceptions import InvalidInput


@transaction.atomic
def note_add(*, by: User, conversation: Conversation, content: str) -> Message:
    ensure_can_act(by=by, conversation=conversation)
    if not content.strip():
        raise InvalidInput("Invalid input.", details={"content": ["A note needs text."]})
    named = mentioned(content, mention_candidates(conversation=conversation))
    message = Message.objects.create(
        conversation=conversation,
        workspace_id=conversation.workspace_id,
        integration=None,
        sender=Message.Sender.AGENT,
        private=True,
        author=by,
        type=Message.Type.TEXT,
        content=content,
        status=Message.Status.SENT,
        metadata={"mentions": [{"id": str(m.pk), "name": m.name or m.email} for m in named]},
    )
    message_new(message, conversation)
    # Naming yourself is not a reason to be notified.
    hooks.note_added.send(message=message, mentioned=[m for m in named if m.pk != by.pk])
    return message
