"""Output shapes of conversations, messages, contacts and tags.

Shared by the REST API and the realtime events, so a ``message:new`` event carries exactly the
object ``GET /api/conversations/:id/messages`` returns. Callers pass instances loaded with
``selectors`` (contact, agent and assistant joined; tags prefetched) to keep queries constant.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from conversations.models import (
    Attachment,
    Contact,
    ContactAttribute,
    ContactIdentity,
    ContactMerge,
    Conversation,
    Message,
    Tag,
)
from conversations.window import messaging_window
from flame.representation import representer


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ("id", "name", "color", "created_at")
        read_only_fields = ("id", "created_at")


class ContactIdentitySerializer(serializers.ModelSerializer):
    """How one channel knows the contact: its id there, the handle, whether it blocked us."""

    integration_id = serializers.UUIDField(read_only=True)
    platform = serializers.CharField(source="integration.platform", read_only=True)
    username = serializers.SerializerMethodField()
    blocked = serializers.SerializerMethodField()

    class Meta:
        model = ContactIdentity
        fields = ("id", "integration_id", "platform", "external_id", "username", "blocked")
        read_only_fields = fields

    def get_username(self, identity: ContactIdentity) -> str:
        return str(identity.metadata.get("username") or "")

    def get_blocked(self, identity: ContactIdentity) -> bool:
        return identity.metadata.get("blocked") is True


class ContactSerializer(serializers.ModelSerializer):
    identities = ContactIdentitySerializer(many=True, read_only=True)

    class Meta:
        model = Contact
        fields = (
            "id",
            "name",
            "phone",
            "email",
            "avatar_url",
            "metadata",
            "note",
            "attributes",
            "identities",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "identities", "created_at", "updated_at")


class ContactAttributeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactAttribute
        fields = ("id", "key", "label", "type", "created_at")
        read_only_fields = fields


class AgentSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    email = serializers.EmailField()


class AssistantSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    type = serializers.CharField()


def contact_data(contact: Contact) -> dict:
    """A contact as ``GET /api/contacts/:id`` returns it (events about contacts carry this)."""
    return dict(ContactSerializer(contact).data)


class ContactBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ("id", "name", "phone", "email", "avatar_url")
        read_only_fields = fields


class DuplicateContactSerializer(serializers.ModelSerializer):
    """A contact in a duplicate suggestion: who it is, its channels, and how many of its
    conversations the reader sees."""

    platforms = serializers.SerializerMethodField()
    conversation_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Contact
        fields = (
            "id",
            "name",
            "phone",
            "email",
            "avatar_url",
            "created_at",
            "platforms",
            "conversation_count",
        )
        read_only_fields = fields

    def get_platforms(self, contact: Contact) -> list[str]:
        platforms = (identity.integration.platform for identity in contact.identities.all())
        return list(dict.fromkeys(platforms))


class DuplicatePairSerializer(serializers.Serializer):
    primary = DuplicateContactSerializer(help_text="The contact suggested to keep.")
    secondary = DuplicateContactSerializer()
    reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=["phone", "email"]),
        help_text="What they share: the phone number, the e-mail address, or both.",
    )


class ContactMergeSerializer(serializers.ModelSerializer):
    """A merge: the contact kept (``primary``), the one folded into it (``secondary``), who
    did it, and until when it can be undone."""

    primary = ContactBriefSerializer(read_only=True)
    secondary = ContactBriefSerializer(read_only=True)
    merged_by = AgentSummarySerializer(read_only=True, allow_null=True)
    undone_by = AgentSummarySerializer(read_only=True, allow_null=True)
    identities_moved = serializers.SerializerMethodField()
    conversations_moved = serializers.SerializerMethodField()
    undoable = serializers.BooleanField(
        source="is_undoable",
        read_only=True,
        help_text="Not undone, before undo_until, and the kept contact not merged since.",
    )

    class Meta:
        model = ContactMerge
        fields = (
            "id",
            "primary",
            "secondary",
            "merged_by",
            "created_at",
            "undo_until",
            "undoable",
            "undone_at",
            "undone_by",
            "identities_moved",
            "conversations_moved",
        )
        read_only_fields = fields

    def get_identities_moved(self, merge: ContactMerge) -> int:
        return len(merge.identity_ids)

    def get_conversations_moved(self, merge: ContactMerge) -> int:
        return len(merge.conversation_ids)


class AttachmentSerializer(serializers.ModelSerializer):
    """A file of a message. ``url`` serves it to members of the workspace (session or token),
    once downloaded; ``status`` says where the download stands."""

    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = (
            "id",
            "kind",
            "mime_type",
            "size",
            "file_name",
            "caption",
            "url",
            "status",
            "error_code",
            "error_message",
        )
        read_only_fields = fields

    def get_url(self, attachment: Attachment) -> str | None:
        if not attachment.is_ready:
            return None
        return reverse("attachment-file", kwargs={"attachment_id": attachment.pk})


class MessageSerializer(serializers.ModelSerializer):
    attachments = AttachmentSerializer(many=True, read_only=True)
    conversation_id = serializers.UUIDField(read_only=True)
    author_id = serializers.UUIDField(read_only=True, allow_null=True)
    assistant_id = serializers.UUIDField(read_only=True, allow_null=True)
    reply_to_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = Message
        fields = (
            "id",
            "conversation_id",
            "content",
            "sender",
            "private",
            "type",
            "status",
            "media_url",
            "attachments",
            "metadata",
            "error_code",
            "error_message",
            "external_id",
            "author_id",
            "assistant_id",
            "reply_to_id",
            "is_edited",
            "is_deleted",
            "created_at",
            "status_changed_at",
        )
        read_only_fields = fields


class MessagingWindowSerializer(serializers.Serializer):
    limited = serializers.BooleanField(help_text="The platform limits when we may write.")
    open = serializers.BooleanField(help_text="An agent may write freely now.")
    closes_at = serializers.DateTimeField(allow_null=True)
    seconds_left = serializers.IntegerField(allow_null=True)
    human_agent = serializers.BooleanField(
        help_text="Open only for a human agent (Messenger/Instagram HUMAN_AGENT tag)."
    )
    templates = serializers.BooleanField(help_text="Approved templates may be sent (WhatsApp).")


class ConversationSerializer(serializers.ModelSerializer):
    contact_id = serializers.UUIDField(read_only=True)
    contact_name = serializers.CharField(source="contact.name", read_only=True)
    contact_phone = serializers.CharField(source="contact.phone", read_only=True)
    contact_email = serializers.CharField(source="contact.email", read_only=True)
    contact_avatar_url = serializers.CharField(source="contact.avatar_url", read_only=True)
    integration_id = serializers.UUIDField(read_only=True, allow_null=True)
    assigned_agent_id = serializers.UUIDField(read_only=True, allow_null=True)
    assigned_agent = AgentSummarySerializer(read_only=True, allow_null=True)
    assigned_assistant_id = serializers.UUIDField(read_only=True, allow_null=True)
    assigned_assistant = AssistantSummarySerializer(read_only=True, allow_null=True)
    last_message_time = serializers.DateTimeField(source="last_message_at", read_only=True)
    tags = TagSerializer(many=True, read_only=True)
    waiting = serializers.BooleanField(
        source="is_waiting",
        read_only=True,
        help_text="Open, and the customer's last message has no agent answer yet.",
    )
    messaging_window = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = (
            "id",
            "contact_id",
            "contact_name",
            "contact_phone",
            "contact_email",
            "contact_avatar_url",
            "platform",
            "integration_id",
            "status",
            "priority",
            "priority_set_by_agent",
            "assigned_agent_id",
            "assigned_agent",
            "assigned_assistant_id",
            "assigned_assistant",
            "last_message",
            "last_message_time",
            "last_message_at",
            "unread_count",
            "message_count",
            "waiting",
            "waiting_since",
            "messaging_window",
            "tags",
            "tags_set_by_agent",
            "ai_summary",
            "ai_priority",
            "ai_tags",
            "ai_analyzed_at",
            "first_response_at",
            "resolved_at",
            "snoozed",
            "snoozed_until",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    @extend_schema_field(MessagingWindowSerializer)
    def get_messaging_window(self, conversation: Conversation) -> dict:
        """Whether an agent may write freely now, and for how long (conversations.window)."""
        return messaging_window(conversation).as_data()


# Event payloads are built for every message ingested: they reuse one instance of each
# serializer (one introspects its model fields the first time ``fields`` is read) and read it
# through ``flame.representation``, which returns what ``to_representation`` returns for a
# fraction of DRF's cost per field.
_CONVERSATION = representer(ConversationSerializer())
_MESSAGE = representer(MessageSerializer())


def conversation_data(conversation: Conversation) -> dict:
    return _CONVERSATION(conversation)


def message_data(message: Message) -> dict:
    return _MESSAGE(message)
