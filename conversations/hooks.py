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
- ``attachment_download_queued``, sent by ``attachment_retry_download``: integrations downloads
  the file again;
- ``channel_for``, asked by the conversations API to start a conversation: integrations;
- ``customer_address``, asked by ``conversation_create``: integrations (the provider);
- ``reply_window``, asked by ``conversations.window`` (the messaging window every sender and
  page uses): integrations (the provider's rule);
- ``media_limits``, asked before a file is sent: integrations (what the platform accepts);
- ``message_template``, asked to send an approved template: integrations (WhatsApp's);
- ``template_choices``, asked by the composer for the templates it may send: integrations;
- ``assistant_for``, asked by the conversations API to assign an assistant: assistants;
- ``assistant_choices``, asked by the inbox page for its assignment menu: assistants.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from flame.hooks import Hook, Port

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from accounts.models import User
    from conversations.activity import Activity
    from conversations.models import Attachment, Conversation, Message
    from conversations.types import MediaLimit, RenderedTemplate, WindowRule


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


class AttachmentDownloadQueued(Protocol):
    def __call__(self, *, attachment: Attachment) -> None: ...


class ReplyWindow(Protocol):
    """The customer-service window of ``platform`` (how long after the customer's last message
    the business may write, and what it may send after); None where there is no such limit."""

    def __call__(self, *, platform: str) -> WindowRule | None: ...


class MediaLimits(Protocol):
    """What ``platform`` accepts per attachment kind (a kind missing: it cannot be sent there);
    None where anything within our own cap goes (no channel, the sandbox)."""

    def __call__(self, *, platform: str) -> Mapping[str, MediaLimit] | None: ...


class MessageTemplate(Protocol):
    """The approved template ``name`` in ``language`` of ``integration`` filled in with
    ``parameters`` ({"header": [...], "body": [...]}); InvalidInput when there is none or the
    parameters do not fit."""

    def __call__(
        self, *, integration: Any, name: str, language: str, parameters: dict[str, list[str]]
    ) -> RenderedTemplate: ...


class TemplateChoices(Protocol):
    """The approved templates of ``integration`` an agent may send, as the API lists them
    (name, language, category, header and body with their parameters); [] where none."""

    def __call__(self, *, integration: Any) -> list[dict[str, Any]]: ...


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
# A failed download was queued again (inside the transaction): fetch it after commit.
attachment_download_queued: Hook[AttachmentDownloadQueued] = Hook("attachment_download_queued")

channel_for: Port[ChannelFor] = Port("channel_for")
customer_address: Port[CustomerAddress] = Port("customer_address")
reply_window: Port[ReplyWindow] = Port("reply_window")
media_limits: Port[MediaLimits] = Port("media_limits")
message_template: Port[MessageTemplate] = Port("message_template")
template_choices: Port[TemplateChoices] = Port("template_choices")
assistant_for: Port[AssistantFor] = Port("assistant_for")
assistant_choices: Port[AssistantChoices] = Port("assistant_choices")


# --- the agent workbench: notifications and auto-assignment react to these ---------------------
#
# - ``activity_recorded``, sent whenever a line of a conversation's history is recorded
#   (``conversations.services.activity``): workbench notifies the new assignee and drains the
#   assignment queue when capacity frees or a conversation starts needing a person;
# - ``note_added``, sent by ``note_add``: workbench notifies the agents a note mentions;
# - ``customer_messages_stored``, sent by ``messages_receive_inbound``: workbench notifies the
#   assignee and queues unassigned conversations for auto-assignment;
# - ``assistant_handles``, asked by auto-assignment: assistants (whether one answers it now).


class ActivityRecorded(Protocol):
    def __call__(self, *, conversation: Conversation, activity: Activity) -> None: ...


class NoteAdded(Protocol):
    def __call__(self, *, message: Message, mentioned: Sequence[User]) -> None: ...


class CustomerMessagesStored(Protocol):
    def __call__(
        self, *, messages: Sequence[Message], conversations: Mapping[Any, Conversation]
    ) -> None: ...


class AssistantHandles(Protocol):
    """Whether an assistant answers ``conversation`` now (an AI assistant, active and on duty,
    that has not handed it to the agents): nobody is auto-assigned to it then."""

    def __call__(self, *, conversation: Conversation) -> bool: ...


# A line of a conversation's history was recorded (inside the transaction of the change).
activity_recorded: Hook[ActivityRecorded] = Hook("activity_recorded")
# An agent wrote a private note; ``mentioned`` are the members it names with @ who may see it.
note_added: Hook[NoteAdded] = Hook("note_added")
# Customer messages were stored (a webhook batch), counters moved; ``conversations`` by id.
customer_messages_stored: Hook[CustomerMessagesStored] = Hook("customer_messages_stored")

assistant_handles: Port[AssistantHandles] = Port("assistant_handles")
