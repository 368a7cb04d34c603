from __future__ import annotations

from rest_framework import serializers

from integrations.models import Integration, MessageTemplate, Platform
from integrations.providers import uses_verify_token
from integrations.templates import template_parts


class IntegrationSerializer(serializers.ModelSerializer):
    """Never carries credential values: only which ones are set."""

    default_assistant_id = serializers.UUIDField(read_only=True, allow_null=True)
    webhook_url = serializers.CharField(read_only=True)
    credentials_set = serializers.SerializerMethodField()
    verify_token = serializers.SerializerMethodField()

    class Meta:
        model = Integration
        fields = (
            "id",
            "platform",
            "name",
            "status",
            "external_account_id",
            "webhook_url",
            "verify_token",
            "default_assistant_id",
            "credentials_set",
            "last_sync",
            "last_webhook_at",
            "last_error",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_credentials_set(self, integration: Integration) -> list[str]:
        return sorted(name for name, value in integration.credentials.items() if value)

    def get_verify_token(self, integration: Integration) -> str | None:
        # Pasted into Meta's webhook settings; meaningless for the other platforms.
        return integration.verify_token if uses_verify_token(integration.platform) else None


class IntegrationCreateSerializer(serializers.Serializer):
    platform = serializers.ChoiceField(choices=Platform.choices)
    name = serializers.CharField(max_length=200)
    credentials = serializers.DictField(
        child=serializers.CharField(max_length=4096, allow_blank=True), required=False, default=dict
    )
    default_assistant_id = serializers.UUIDField(required=False, allow_null=True)


class IntegrationUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    credentials = serializers.DictField(
        child=serializers.CharField(max_length=4096, allow_blank=True), required=False
    )
    default_assistant_id = serializers.UUIDField(required=False, allow_null=True)


class IntegrationStatusSerializer(serializers.Serializer):
    status = serializers.CharField()
    last_webhook_at = serializers.DateTimeField(allow_null=True)
    last_sync = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()
    counts = serializers.DictField(child=serializers.IntegerField())


class SandboxMessageSerializer(serializers.Serializer):
    # "from" is a keyword in Python; the field keeps the wire name through source mapping.
    # Becomes the contact's phone, hence that column's length.
    sender = serializers.CharField(max_length=32)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    text = serializers.CharField(max_length=4096)

    def to_internal_value(self, data):
        if hasattr(data, "get") and "from" in data and "sender" not in data:
            data = {**data, "sender": data.get("from")}
        return super().to_internal_value(data)


class WebhookRetrySerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=1000
    )


class PlatformStatsSerializer(serializers.Serializer):
    platform = serializers.CharField()
    received = serializers.IntegerField()
    processed = serializers.IntegerField()
    ignored = serializers.IntegerField()
    failed = serializers.IntegerField()
    pending = serializers.IntegerField()
    last_received_at = serializers.DateTimeField(allow_null=True)
    median_processing_ms = serializers.FloatField(allow_null=True)


class MessageTemplateSerializer(serializers.ModelSerializer):
    """A template as the platform has it, with its parts and their placeholders read out."""

    integration_id = serializers.UUIDField(read_only=True)
    parts = serializers.SerializerMethodField()

    class Meta:
        model = MessageTemplate
        fields = (
            "id",
            "integration_id",
            "external_id",
            "name",
            "language",
            "category",
            "status",
            "status_reason",
            "parameter_format",
            "components",
            "parts",
            "synced_at",
        )
        read_only_fields = fields

    def get_parts(self, template: MessageTemplate) -> dict:
        return template_parts(template)


class TemplateSyncSerializer(serializers.Serializer):
    synced = serializers.IntegerField(help_text="How many templates the account has.")


class BotCommandSerializer(serializers.Serializer):
    # Telegram's rules (docs/channels.md §telegram.commands): 1-32 of a-z, 0-9 and _.
    command = serializers.RegexField(r"^/?[a-z0-9_]{1,32}$", max_length=33)
    description = serializers.CharField(max_length=256)

    def validate_command(self, value: str) -> str:
        return value.removeprefix("/")


class BotCommandsSerializer(serializers.Serializer):
    commands = BotCommandSerializer(many=True, max_length=100)


class BotCommandsResultSerializer(serializers.Serializer):
    commands = BotCommandSerializer(many=True)
    channels = serializers.ListField(
        child=serializers.DictField(),
        help_text="Each Telegram channel registered: {integration_id, name, error}.",
    )
