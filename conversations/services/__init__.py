"""Every write to contacts, conversations, messages and tags, split by flow.

- ``conversations``: what agents do to a conversation (start, edit, assign, resolve, delete)
  and the AI analysis written back;
- ``inbound``: customer messages from a channel, stored exactly once, as sets;
- ``outbound``: what the business sends, its delivery status and retries;
- ``channel_updates``: reactions, edits, deletions, receipts and echoes reported by channels;
- ``events``: the payloads and realtime events every change records;
- ``counters``: conversation counters moved with F();
- ``tags``, ``contacts``.

Each service is one transaction that also records its realtime Event, so the outbox row
commits or rolls back with the change it describes. Idempotency comes from unique constraints,
never from check-then-insert. The names below are the public ones; callers import them from
``conversations.services``.
"""

from conversations.services.channel_updates import (
    message_delete_from_channel,
    message_edit_from_channel,
    message_react,
    message_record_echo,
    message_status_from_channel,
    messages_apply_watermark,
)
from conversations.services.contacts import contact_identity_flag, contact_update
from conversations.services.conversations import (
    ConversationOpened,
    conversation_assign,
    conversation_create,
    conversation_delete,
    conversation_hand_off,
    conversation_mark_read,
    conversation_record_analysis,
    conversation_set_status,
    conversation_update,
)
from conversations.services.events import events_prune
from conversations.services.inbound import (
    InboundBatch,
    InboundResult,
    contact_for_identity,
    inbound_not_stored,
    message_receive_in_thread,
    message_receive_inbound,
    messages_receive_inbound,
)
from conversations.services.outbound import (
    OutboundDraft,
    message_mark_sent,
    message_resend,
    message_retry,
    message_send_agent,
    message_store_outbound,
    message_update_status,
)
from conversations.services.tags import tag_create, tag_delete, tag_update
from conversations.types import EchoedMessage, InboundMessage

__all__ = [
    "ConversationOpened",
    "EchoedMessage",
    "InboundBatch",
    "InboundMessage",
    "InboundResult",
    "OutboundDraft",
    "contact_for_identity",
    "contact_identity_flag",
    "contact_update",
    "conversation_assign",
    "conversation_create",
    "conversation_delete",
    "conversation_hand_off",
    "conversation_mark_read",
    "conversation_record_analysis",
    "conversation_set_status",
    "conversation_update",
    "events_prune",
    "inbound_not_stored",
    "message_delete_from_channel",
    "message_edit_from_channel",
    "message_mark_sent",
    "message_react",
    "message_receive_in_thread",
    "message_receive_inbound",
    "message_record_echo",
    "message_resend",
    "message_retry",
    "message_send_agent",
    "message_status_from_channel",
    "message_store_outbound",
    "message_update_status",
    "messages_apply_watermark",
    "messages_receive_inbound",
    "tag_create",
    "tag_delete",
    "tag_update",
]
