"""The messaging window: whether the business may write freely to a customer now.

Computed here, once, from the platform's rule (the ``reply_window`` port, answered by the
channel's provider: docs/channels.md §meta.window) and the customer's last message, and used by
everyone who needs it: the API and the inbox (shown with the time left), sending (free text
outside the window is refused before it is stored, never sent to fail later), delivery
(checked again when the send happens) and the satisfaction survey.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from conversations import hooks
from conversations.models import Conversation, Message
from conversations.types import WindowRule
from flame.exceptions import ConflictError

WINDOW_CLOSED = "reply_window_closed"


@dataclass(frozen=True)
class MessagingWindow:
    # The platform limits when the business may write (Meta's channels); False: write any time.
    limited: bool
    # The sender may write freely now.
    open: bool
    # When free writing ends for this sender (None: never, or already closed without a message).
    closes_at: datetime | None = None
    # Open only through the human-agent tag (Messenger, Instagram: up to 7 days).
    human_agent: bool = False
    # Approved templates may be sent whatever the window (WhatsApp).
    templates: bool = False

    def as_data(self, now: datetime | None = None) -> dict[str, Any]:
        now = now or timezone.now()
        left = None
        if self.open and self.closes_at is not None:
            left = max(0, int((self.closes_at - now).total_seconds()))
        return {
            "limited": self.limited,
            "open": self.open,
            "closes_at": self.closes_at.isoformat() if self.closes_at else None,
            "seconds_left": left,
            "human_agent": self.human_agent,
            "templates": self.templates,
        }


UNLIMITED = MessagingWindow(limited=False, open=True)


def _rule(conversation: Conversation) -> WindowRule | None:
    if conversation.integration_id is None:
        return None  # no channel behind it: messages are only kept
    return hooks.reply_window.ask(platform=conversation.platform)


def messaging_window(
    conversation: Conversation, *, sender: str = Message.Sender.AGENT, now: datetime | None = None
) -> MessagingWindow:
    """The window as it stands for ``sender``: a human agent may use the platform's
    human-agent extension, an assistant never does (the tag is for people)."""
    rule = _rule(conversation)
    if rule is None:
        return UNLIMITED
    now = now or timezone.now()
    last = conversation.last_customer_message_at
    if last is None:  # the business started it: the customer has not written yet
        return MessagingWindow(limited=True, open=False, templates=rule.templates)
    free_until = last + rule.free
    if now < free_until:
        return MessagingWindow(True, True, free_until, templates=rule.templates)
    if sender == Message.Sender.AGENT and rule.human_agent is not None:
        tagged_until = last + rule.human_agent
        if now < tagged_until:
            return MessagingWindow(True, True, tagged_until, True, rule.templates)
    return MessagingWindow(limited=True, open=False, closes_at=None, templates=rule.templates)


def ensure_may_write_freely(conversation: Conversation, *, sender: str) -> None:
    """Refuse text or media the platform would refuse (409 ``reply_window_closed``).

    Decided on the customer's last message as stored now: the caller's copy of the
    conversation may predate it (loaded before the customer's message was counted).
    """
    if _rule(conversation) is None:
        return
    conversation.last_customer_message_at = (
        Conversation.objects.filter(pk=conversation.pk)
        .values_list("last_customer_message_at", flat=True)
        .first()
    )
    window = messaging_window(conversation, sender=sender)
    if window.open:
        return
    never = conversation.last_customer_message_at is None
    situation = (
        "The customer has not written on this channel yet"
        if never
        else "The messaging window has closed"
    )
    remedy = (
        "only an approved template can be sent until the customer writes"
        if window.templates
        else "the customer has to write first"
    )
    raise ConflictError(
        f"{situation}: {remedy}.", code=WINDOW_CLOSED, details={"templates": window.templates}
    )
