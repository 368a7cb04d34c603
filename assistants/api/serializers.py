"""Shapes of the assistants and AI API: input validation and output (also for the schema)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assistants.models import (
    AIUsage,
    Assistant,
    KnowledgeDocument,
    PlaygroundConversation,
    PlaygroundMessage,
    Schedule,
)
from flame.api.dates import DayRangeQuerySerializer

MAX_USAGE_DAYS = 366
TIME_FORMAT = "%H:%M"

# --- assistants ----------------------------------------------------------------------------------


class ScheduleSerializer(serializers.ModelSerializer):
    assistant_id = serializers.UUIDField(read_only=True)
    start_time = serializers.TimeField(format=TIME_FORMAT)
    end_time = serializers.TimeField(format=TIME_FORMAT)
    crosses_midnight = serializers.BooleanField(read_only=True)

    class Meta:
        model = Schedule
        fields = (
            "id",
            "assistant_id",
            "day_of_week",
            "start_time",
            "end_time",
            "enabled",
            "crosses_midnight",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class ScheduleWriteSerializer(serializers.Serializer):
    day_of_week = serializers.IntegerField(
        min_value=0, max_value=6, help_text="0 = Sunday … 6 = Saturday."
    )
    start_time = serializers.TimeField(help_text="HH:MM in the workspace timezone.")
    end_time = serializers.TimeField(
        help_text="HH:MM; at or before start_time means the interval runs past midnight."
    )
    enabled = serializers.BooleanField(default=True)


class AssistantSerializer(serializers.ModelSerializer):
    """Input and output of /api/assistants (one serializer, so one schema component and one
    enum per choice set). Views validate with it and hand the data to the services."""

    schedules = ScheduleSerializer(many=True, read_only=True)
    knowledge_count = serializers.IntegerField(read_only=True, default=0)
    needs_training = serializers.BooleanField(read_only=True)

    class Meta:
        model = Assistant
        fields = (
            "id",
            *Assistant.EDITABLE_FIELDS,
            "schedules",
            "knowledge_count",
            "needs_training",
            "trained_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "trained_at", "created_at", "updated_at")
        extra_kwargs = {
            "type": {"required": True},
            "description": {"max_length": 2000},
            "auto_response": {"max_length": 4096},
            "ai_prompt": {"max_length": 20000},
            "handoff_quiet_minutes": {"max_value": 7 * 24 * 60},
        }


class KnowledgeSerializer(serializers.ModelSerializer):
    assistant_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = KnowledgeDocument
        fields = ("id", "assistant_id", "title", "content", "created_at", "updated_at")
        read_only_fields = fields


class KnowledgeWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    content = serializers.CharField(max_length=100_000)


# --- playground ----------------------------------------------------------------------------------


class ChatTurnSerializer(serializers.Serializer):
    # A pattern rather than choices: "role" is an enum of accounts (admin/agent) already.
    role = serializers.RegexField(r"^(user|assistant)$", help_text="user or assistant")
    content = serializers.CharField(max_length=4096)


class AssistantTestSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=4096)
    history = ChatTurnSerializer(many=True, required=False, max_length=20)


class AIChatSerializer(AssistantTestSerializer):
    assistant_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="Answer as this assistant would."
    )
    conversation_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="Go on with this playground conversation (its messages are the history); "
        "without it a new one is started. Either this or history, not both.",
    )
    stream = serializers.BooleanField(
        default=False,
        help_text="Answer as server-sent events (text/event-stream): start, then delta "
        "pieces of the reply as it is written, then done (the whole answer) or error.",
    )

    def validate(self, attrs):
        if attrs.get("conversation_id") and attrs.get("history"):
            raise serializers.ValidationError(
                {"history": ["Leave it out when conversation_id is given."]}
            )
        return attrs


class ChatAnswerSerializer(serializers.Serializer):
    conversation_id = serializers.UUIDField(help_text="The playground conversation it went to.")


class SnippetSerializer(serializers.Serializer):
    title = serializers.CharField()
    content = serializers.CharField()
    score = serializers.FloatField()


class CallUsageSerializer(serializers.Serializer):
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    cost = serializers.DecimalField(max_digits=12, decimal_places=6, coerce_to_string=False)
    latency_ms = serializers.IntegerField()


# Where a playground answer came from (named SourceEnum in the schema: flame/settings.py).
REPLY_SOURCES = ["ai", "knowledge", "auto_response", "handoff", "notice"]


class PlaygroundAnswerSerializer(serializers.Serializer):
    reply = serializers.CharField()
    source = serializers.ChoiceField(choices=REPLY_SOURCES)
    error = serializers.CharField()
    provider = serializers.CharField()
    model = serializers.CharField()
    on_duty = serializers.BooleanField(allow_null=True)
    snippets = SnippetSerializer(many=True)
    usage = CallUsageSerializer(allow_null=True)


class AIChatAnswerSerializer(PlaygroundAnswerSerializer, ChatAnswerSerializer):
    pass


class PlaygroundMessageSerializer(serializers.ModelSerializer):
    # Text rather than choices: "role" is an enum of accounts (admin/agent) already.
    role = serializers.CharField(help_text="user or assistant")

    class Meta:
        model = PlaygroundMessage
        fields = ("id", "role", "content", "source", "created_at")
        read_only_fields = fields


class PlaygroundConversationSerializer(serializers.ModelSerializer):
    assistant_id = serializers.UUIDField(read_only=True, allow_null=True)
    message_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = PlaygroundConversation
        fields = ("id", "title", "assistant_id", "message_count", "created_at", "updated_at")
        read_only_fields = fields


class PlaygroundConversationDetailSerializer(PlaygroundConversationSerializer):
    messages = serializers.SerializerMethodField()

    class Meta(PlaygroundConversationSerializer.Meta):
        fields = (*PlaygroundConversationSerializer.Meta.fields, "messages")
        read_only_fields = fields

    @extend_schema_field(PlaygroundMessageSerializer(many=True))
    def get_messages(self, conversation) -> list:
        # The view reads them through the selector, in order.
        return PlaygroundMessageSerializer(self.context["messages"], many=True).data


# --- usage, models, status -----------------------------------------------------------------------


class UsageQuerySerializer(DayRangeQuerySerializer):
    default_days = 30
    max_days = MAX_USAGE_DAYS

    def validate(self, attrs):
        first_day, last_day = self.day_range(attrs)
        return {"first_day": first_day, "last_day": last_day}


class UsageMetricsSerializer(serializers.Serializer):
    requests = serializers.IntegerField()
    failed = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    cost = serializers.DecimalField(max_digits=14, decimal_places=6, coerce_to_string=False)


class UsageByDaySerializer(UsageMetricsSerializer):
    day = serializers.DateField()


class UsageByAssistantSerializer(UsageMetricsSerializer):
    assistant_id = serializers.UUIDField(allow_null=True)
    assistant_name = serializers.CharField(allow_null=True)


class UsageByPurposeSerializer(UsageMetricsSerializer):
    purpose = serializers.ChoiceField(choices=AIUsage.Purpose.choices)


class UsageReportSerializer(serializers.Serializer):
    to = serializers.DateField()
    timezone = serializers.CharField()
    totals = UsageMetricsSerializer()
    by_day = UsageByDaySerializer(many=True)
    by_assistant = UsageByAssistantSerializer(many=True)
    by_purpose = UsageByPurposeSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        return {"from": serializers.DateField(), **fields}


class ModelInfoSerializer(serializers.Serializer):
    id = serializers.CharField()
    default = serializers.BooleanField()
    prompt_price_per_million = serializers.DecimalField(
        max_digits=10, decimal_places=4, allow_null=True, coerce_to_string=False
    )
    completion_price_per_million = serializers.DecimalField(
        max_digits=10, decimal_places=4, allow_null=True, coerce_to_string=False
    )


class ModelListSerializer(serializers.Serializer):
    provider = serializers.CharField()
    default = serializers.CharField()
    models = ModelInfoSerializer(many=True)


class QuotaSerializer(serializers.Serializer):
    requests = serializers.IntegerField()
    tokens = serializers.IntegerField()


class AIStatusSerializer(serializers.Serializer):
    provider = serializers.CharField()
    model = serializers.CharField()
    base_url_configured = serializers.BooleanField()
    plan = serializers.CharField()
    timezone = serializers.CharField()
    day = serializers.DateField()
    limits = QuotaSerializer(allow_null=True)
    used = QuotaSerializer()
    remaining = QuotaSerializer(allow_null=True)


class ReplySuggestionSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, help_text="Empty when there is no suggestion.")
    source = serializers.CharField(
        help_text="ai (the model), knowledge (the local provider's best snippet) or none."
    )
    assistant_id = serializers.UUIDField(allow_null=True)
