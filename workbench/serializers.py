"""Output shapes of the workbench, shared by its API and its realtime events."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from workbench.models import Notification, NotificationPreference, SavedReply


class PersonSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class NotificationSerializer(serializers.ModelSerializer):
    conversation_id = serializers.UUIDField(read_only=True)
    message_id = serializers.UUIDField(read_only=True, allow_null=True)
    contact_name = serializers.SerializerMethodField()
    actor = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = (
            "id",
            "kind",
            "conversation_id",
            "message_id",
            "contact_name",
            "actor",
            "text",
            "count",
            "url",
            "created_at",
            "read_at",
        )
        read_only_fields = fields

    def get_contact_name(self, notification: Notification) -> str:
        contact = notification.conversation.contact
        return contact.name or contact.phone or contact.email

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_actor(self, notification: Notification) -> dict | None:
        actor = notification.actor
        if actor is None:
            return None
        return {"id": str(actor.pk), "name": actor.name or actor.email}

    def get_url(self, notification: Notification) -> str:
        return reverse("inbox-conversation", args=[notification.conversation_id])


class NotificationPreferenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = NotificationPreference
        fields = NotificationPreference.FIELDS


class SavedReplySerializer(serializers.ModelSerializer):
    owner_id = serializers.UUIDField(read_only=True, allow_null=True)
    personal = serializers.SerializerMethodField()

    class Meta:
        model = SavedReply
        fields = ("id", "short_code", "content", "personal", "owner_id", "created_at", "updated_at")
        read_only_fields = fields

    def get_personal(self, reply: SavedReply) -> bool:
        return reply.owner_id is not None


_NOTIFICATION = NotificationSerializer()


def notification_data(notification: Notification) -> dict:
    return _NOTIFICATION.to_representation(notification)
