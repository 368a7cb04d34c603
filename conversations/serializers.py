"""Output shapes of conversations, messages, contacts and tags.

Shared by the REST API and the realtime events, so a ``message:new`` event carries exactly the
object ``GET /api/conversations/:id/messages`` returns. Callers pass instances loaded with
``selectors`` (contact, agent and assistant joined; tags prefetched) to keep queries constant.
"""

from __future__ import annotations

from rest_framework import serializers

from conversations.models import Contact, Conversation, Message, Tag


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ("id", "name", "color", "created_at")
        read_only_fields = ("id", "created_at")


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = (
            "id",
            "name",
            "phone",
            "email",
            "avatar_url",
            "metadata",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "created_at", "updated_at")


class AgentSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    email = serializers.EmailField()


class AssistantSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    type = serializers.CharField()


class MessageSerializer(serializers.ModelSerializer):
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
            "type",
            "status",
            "media_url",
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
            "tags",
            "tags_set_by_agent",
            "ai_summary",
            "ai_priority",
            "ai_tags",
            "ai_analyzed_at",
            "first_response_at",
            "resolved_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


# Event payloads are built for every message ingested. A serializer instance introspects its
# model fields the first time ``fields`` is read; building one per event repeated that work
# (the largest single cost of ingestion), so events reuse one bound instance of each.
# ``to_representation`` only reads the instance it is given, so sharing them is safe.
_CONVERSATION = ConversationSerializer()
_MESSAGE = MessageSerializer()


def conversation_data(conversation: Conversation) -> dict:
    return _CONVERSATION.to_representation(conversation)


def message_data(message: Message) -> dict:
    return _MESSAGE.to_representation(message)
