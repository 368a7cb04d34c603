"""Input shapes of the workbench API (output shapes: workbench/serializers.py)."""

from __future__ import annotations

from rest_framework import serializers

from conversations.api.serializers import StrictInputSerializer
from workbench.models import NotificationPreference
from workbench.services.assignment_settings import MAX_ALERT_MINUTES, MAX_CAPACITY
from workbench.services.saved_replies import MAX_CONTENT


class NotificationQuerySerializer(StrictInputSerializer):
    also_accepted = ("cursor", "limit", "format")

    unread = serializers.BooleanField(required=False, default=None, allow_null=True)


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class ReadConversationSerializer(StrictInputSerializer):
    conversation_id = serializers.UUIDField()


class PreferencesSerializer(StrictInputSerializer):
    def get_fields(self):
        return {
            name: serializers.BooleanField(required=False) for name in NotificationPreference.FIELDS
        }


class SavedReplyQuerySerializer(StrictInputSerializer):
    search = serializers.CharField(required=False, max_length=200, allow_blank=True)


class SavedReplyWriteSerializer(StrictInputSerializer):
    short_code = serializers.CharField(max_length=40)
    content = serializers.CharField(max_length=MAX_CONTENT, trim_whitespace=False)
    personal = serializers.BooleanField(
        default=True, help_text="Yours alone (true) or the workspace's (false, admins only)."
    )

    def validate_content(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        return value


class SavedReplyUpdateSerializer(SavedReplyWriteSerializer):
    def get_fields(self):
        fields = super().get_fields()
        fields.pop("personal")
        for field in fields.values():
            field.required = False
        return fields


class ChannelAssignmentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    platform = serializers.CharField()
    auto_assign = serializers.BooleanField()


class AgentAssignmentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    email = serializers.EmailField()
    availability = serializers.CharField()
    capacity = serializers.IntegerField()
    open_conversations = serializers.IntegerField()


class AssignmentSettingsSerializer(serializers.Serializer):
    channels = ChannelAssignmentSerializer(many=True)
    agents = AgentAssignmentSerializer(many=True)
    waiting_alert_minutes = serializers.IntegerField(allow_null=True)


class ChannelAutoAssignSerializer(StrictInputSerializer):
    auto_assign = serializers.BooleanField()


class CapacitySerializer(StrictInputSerializer):
    capacity = serializers.IntegerField(min_value=0, max_value=MAX_CAPACITY)


class WaitingAlertSerializer(StrictInputSerializer):
    waiting_alert_minutes = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ALERT_MINUTES,
        allow_null=True,
        help_text="Alert when a customer waits longer than this; null: never.",
    )
