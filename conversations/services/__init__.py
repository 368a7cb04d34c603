"""Every write to contacts, conversations, messages and tags, split by flow.

- ``conversations``: what agents do to a conversation (start, edit, assign, resolve, delete)
  and the AI analysis written back;
- ``inbound``: customer messages from a channel, stored exactly once, as sets;
- ``outbound``: what the business sends, its delivery status and retries;
- ``channel_updates``: reactions, edits, deletions, receipts and echoes reported by channels;
- ``events``: the payloads and realtime events every change records;
- ``counters``: conversation counters moved with F();
- ``attachments``: files of messages, downloaded from channels or uploaded by agents;
- ``tags``, ``contacts``, ``contact_merge`` (duplicates merged, undone, dismissed).

Each service is one transaction that also records its realtime Event, so the outbox row
commits or rolls back with the change it describes. Idempotency comes from unique constraints,
never from check-then-insert. The names below are the public ones; callers import them from
``conversations.services``.
"""

from conversations.services.activity import activities_record, activity_record
from conversations.services.analyses import (
    AnalysisWrite,
    conversation_record_analysis,
    conversations_lock_for_analysis,
    conversations_record_analyses,
)
from conversations.services.attachments import (
    StoredFile,
    Upload,
    attachment_claim_download,
    attachment_download_failed,
    attachment_retry_download,
    attachment_store_download,
    attachments_pending,
)
from conversations.services.bulk import BulkChange, conversations_bulk_update
from conversations.services.channel_updates import (
    message_delete_from_channel,
    message_edit_from_channel,
    message_react,
    message_record_echo,
    message_status_from_channel,
    messages_apply_watermark,
)
from conversations.services.contact_merge import (
    contact_duplicate_dismiss,
    contact_merge,
    contact_merge_undo,
)
from conversations.services.contact_panel import (
    contact_attribute_create,
    contact_attribute_delete,
    contact_attribute_update,
    contact_edit,
)
from conversations.services.contacts import (
    contact_identity_flag,
    contact_identity_moved,
    contact_update,
)
from conversations.services.conversations import (
    ConversationOpened,
    conversation_assign,
    conversation_assign_automatically,
    conversation_create,
    conversation_delete,
    conversation_hand_off,
    conversation_mark_read,
    conversation_set_status,
    conversation_update,
)
from conversations.services.events import events_prune, system_event
from conversations.services.inbound import (
    InboundBatch,
    InboundResult,
    contact_for_identity,
    inbound_not_stored,
    message_receive_in_thread,
    message_receive_inbound,
    messages_receive_inbound,
)
from conversations.services.notes import note_add
from conversations.services.outbound import (
    OutboundDraft,
    OutboundFile,
    message_mark_sent,
    message_resend,
    message_retry,
    message_send_agent,
    message_store_outbound,
    message_update_status,
)
from conversations.services.snooze import (
    conversation_snooze,
    conversation_unsnooze,
    conversations_wake_snoozed,
)
from conversations.services.tags import tag_create, tag_delete, tag_merge, tag_update
from conversations.types import EchoedMessage, InboundMessage

__all__ = [
    "AnalysisWrite",
    "BulkChange",
    "ConversationOpened",
    "EchoedMessage",
    "InboundBatch",
    "InboundMessage",
    "InboundResult",
    "OutboundDraft",
    "OutboundFile",
    "StoredFile",
    "Upload",
    "activities_record",
    "activity_record",
    "attachment_claim_download",
    "attachment_download_failed",
    "attachment_retry_download",
    "attachment_store_download",
    "attachments_pending",
    "contact_attribute_create",
    "contact_attribute_delete",
    "contact_attribute_update",
    "contact_duplicate_dismiss",
    "contact_edit",
    "contact_for_identity",
    "contact_identity_flag",
    "contact_identity_moved",
    "contact_merge",
    "contact_merge_undo",
    "contact_update",
    "conversation_assign",
    "conversation_assign_automatically",
    "conversation_create",
    "conversation_delete",
    "conversation_hand_off",
    "conversation_mark_read",
    "conversation_record_analysis",
    "conversation_set_status",
    "conversation_snooze",
    "conversation_unsnooze",
    "conversation_update",
    "conversations_bulk_update",
    "conversations_lock_for_analysis",
    "conversations_record_analyses",
    "conversations_wake_snoozed",
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
    "note_add",
    "system_event",
    "tag_create",
    "tag_delete",
    "tag_merge",
    "tag_update",
]
