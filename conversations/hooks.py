"""Everything the conversations core announces to, or asks of, the apps built on it.

The core (contacts, conversations, messages) sits below assistants, satisfaction and
integrations, and never imports them (docs/architecture.md). What only the core knows happened
reaches them through the hooks below; what only they can answer (a channel's rules, an object of
theirs) the core asks through the ports. Each is filled in the higher app's
``AppConfig.ready()``; ``flame/hooks.py`` says how hooks and ports behave.

- ``conversation_resolved``, sent by ``conversation_update``: satisfaction sends the survey;
- ``outbound_message_queued``, sent by ``message_store_outbound`` and ``message_resend``:
  integrations delivers the message;
- ``agent_replied``, sent by ``message_send_agent``: assistants analyse the conversation again;
- ``channel_for``, asked by the conversations API to start a conversation: integrations;
- ``customer_address``, asked by ``conversation_create``: integrations (the provider);
- ``reply_window``, asked by whoever writes to a customer first (surveys): integrations;
- ``assistant_for``, asked by the conversations API to assign an assistant: assistants;
- ``assistant_choices``, asked by the inbox page for its assignment menu: assistants.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from flame.hooks import Hook, Port

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from accounts.models import User
    from conversations.models import Conversation, Message


class ConversationResolved(Protocol):
    def __call__(self, *, conversation: Conversation) -> None: ...


class OutboundMessageQueued(Protocol):
    def __call__(self, *, message: Message) -> None: ...


class AgentReplied(Protocol):
    def __call__(self, *, message: Message) -> None: ...


class ChannelFor(Protocol):
    """The integration (channel account) ``integration_id`` names, if ``user`` may use it;
    raises ``flame.exceptions.NotFoundError`` otherwise."""

    def __call__(self, *, user: User, integration_id: UUID) -> Any: ...


class CustomerAddress(Protocol):
    """The customer's id on the integration's platform for a phone number ("" when the number
    is missing or unusable), or None where the platform does not address people by number."""

    def __call__(self, *, integration: Any, phone: str) -> str | None: ...


class ReplyWindow(Protocol):
    """How long after the customer's last message the business may write on ``platform``
    (Meta's customer-service window); None where the platform sets no such limit."""

    def __call__(self, *, platform: str) -> timedelta | None: ...


class AssistantFor(Protocol):
    """The assistant ``assistant_id`` names in ``user``'s workspace; NotFoundError otherwise."""

    def __call__(self, *, user: User, assistant_id: UUID) -> Any: ...


class AssistantChoices(Protocol):
    def __call__(self, *, user: User) -> QuerySet[Any]: ...


# A conversation was just resolved (inside the resolving transaction).
conversation_resolved: Hook[ConversationResolved] = Hook("conversation_resolved")
# An outbound message was stored ``queued`` (or a failed one queued again): deliver it after
# commit.
outbound_message_queued: Hook[OutboundMessageQueued] = Hook("outbound_message_queued")
# An agent answered the customer (inside the transaction that stored the message).
agent_replied: Hook[AgentReplied] = Hook("agent_replied")

channel_for: Port[ChannelFor] = Port("channel_for")
customer_address: Port[CustomerAddress] = Port("customer_address")
reply_window: Port[ReplyWindow] = Port("reply_window")
assistant_for: Port[AssistantFor] = Port("assistant_for")
assistant_choices: Port[AssistantChoices] = Port("assistant_choices")
