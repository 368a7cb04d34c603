"""Input shapes of the conversations API (output shapes: conversations/serializers.py)."""

from __future__ import annotations

from rest_framework import serializers

from conversations.models import Conversation, Message
from integrations.models import Platform


def _csv_choices(value: str, choices, field: str) -> tuple[str, ...]:
    values = tuple(v.strip() for v in value.split(",") if v.strip())
    unknown = [v for v in values if v not in dict(choices)]
    if unknown:
        raise serializers.ValidationError({field: [f"Unknown value(s): {', '.join(unknown)}."]})
    return values


class ConversationFilterSerializer(serializers.Serializer):
    status = serializers.CharField(required=False)
    priority = serializers.CharField(required=False)
    platform = serializers.CharField(required=False)
    tag = serializers.CharField(required=False, max_length=100)
    assigned = serializers.CharField(required=False, max_length=64)
    search = serializers.CharField(required=False, max_length=200)

    def validate_status(self, value: str):
        return _csv_choices(value, Conversation.Status.choices, "status")

    def validate_priority(self, value: str):
        return _csv_choices(value, Conversation.Priority.choices, "priority")

    def validate_platform(self, value: str):
        return _csv_choices(value, Platform.choices, "platform")

    def validate_assigned(self, value: str) -> str:
        if value in ("me", "none"):
            return value
        try:
            return str(serializers.UUIDField().to_internal_value(value))
        except serializers.ValidationError as exc:
            raise serializers.ValidationError("Use me, none or an agent id.") from exc


class ConversationCreateSerializer(serializers.Serializer):
    contact_name = serializers.CharField(max_length=200)
    contact_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    contact_email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    platform = serializers.ChoiceField(choices=Platform.choices)
    integration_id = serializers.UUIDField(required=False, allow_null=True)


class ConversationUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Conversation.Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Conversation.Priority.choices, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=20
    )
    contact_name = serializers.CharField(max_length=200, required=False)
    contact_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    contact_email = serializers.EmailField(max_length=254, required=False, allow_blank=True)


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Conversation.Status.choices)


class AssignSerializer(serializers.Serializer):
    agent_id = serializers.UUIDField(required=False, allow_null=True)
    assistant_id = serializers.UUIDField(required=False, allow_null=True)

    def validate(self, attrs):
        if "agent_id" not in attrs and "assistant_id" not in attrs:
            raise serializers.ValidationError("Give agent_id or assistant_id (null unassigns).")
        return attrs


class MessageCreateSerializer(serializers.Serializer):
    content = serializers.CharField(
        max_length=4096, required=False, allow_blank=True, trim_whitespace=False
    )
    type = serializers.ChoiceField(
        choices=[
            Message.Type.TEXT,
            Message.Type.IMAGE,
            Message.Type.FILE,
            Message.Type.AUDIO,
            Message.Type.VIDEO,
        ],
        default=Message.Type.TEXT,
    )
    media_url = serializers.URLField(max_length=2000, required=False, allow_blank=True)
    reply_to = serializers.UUIDField(required=False, allow_null=True)

    def validate(self, attrs):
        if not attrs.get("content", "").strip() and not attrs.get("media_url"):
            raise serializers.ValidationError({"content": ["A message needs text or media."]})
        return attrs


class TagWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    color = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False)


class ContactUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    avatar_url = serializers.URLField(max_length=1000, required=False, allow_blank=True)
    metadata = serializers.DictField(required=False)


class EventQuerySerializer(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, default=0)
    limit = serializers.IntegerField(min_value=1, max_value=500, default=200)


class EventSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.IntegerField()
    data = serializers.DictField()


class EventPageSerializer(serializers.Serializer):
    results = EventSerializer(many=True)
    last_id = serializers.IntegerField()
    has_more = serializers.BooleanField()
