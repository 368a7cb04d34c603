from __future__ import annotations

from rest_framework import serializers

from analytics.selectors import DAY, WEEK, Window
from conversations.models import Conversation
from conversations.types import Platform
from flame.api.dates import DayRangeQuerySerializer

# The period reports cover when the query names none: the API's, and the dashboard page's
# (which passes it as context["default_days"]). No period may be longer than MAX_DAYS.
DEFAULT_DAYS = 7
DASHBOARD_DEFAULT_DAYS = 30
MAX_DAYS = 366


class WindowQuerySerializer(DayRangeQuerySerializer):
    default_days = DEFAULT_DAYS
    max_days = MAX_DAYS

    granularity = serializers.ChoiceField(
        choices=[DAY, WEEK], default=DAY, required=False, help_text="Bucket size of the series."
    )

    def validate(self, attrs) -> Window:
        return Window(*self.day_range(attrs), attrs.get("granularity", DAY))


def _counts_serializer(name: str, keys) -> type[serializers.Serializer]:
    fields = {key: serializers.IntegerField() for key in keys}
    return type(name, (serializers.Serializer,), fields)


StatusCountsSerializer = _counts_serializer("StatusCounts", Conversation.Status.values)
PlatformCountsSerializer = _counts_serializer("PlatformCounts", Platform.values)
PriorityCountsSerializer = _counts_serializer("PriorityCounts", Conversation.Priority.values)


class PeriodSerializer(serializers.Serializer):
    from_ = serializers.DateField()
    to = serializers.DateField()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class DashboardFiguresSerializer(PeriodSerializer):
    total = serializers.IntegerField()
    by_status = StatusCountsSerializer()
    by_platform = PlatformCountsSerializer()
    by_priority = PriorityCountsSerializer()


class DashboardSerializer(DashboardFiguresSerializer):
    unreplied = serializers.IntegerField(
        help_text="Open conversations waiting for an agent's answer now, whatever their age."
    )
    previous = DashboardFiguresSerializer()


class SeriesPointSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="First local day of the bucket.")
    new = serializers.IntegerField()
    resolved = serializers.IntegerField()
    messages_in = serializers.IntegerField()
    messages_out = serializers.IntegerField()


class ConversationSeriesSerializer(PeriodSerializer):
    granularity = serializers.ChoiceField(choices=[DAY, WEEK])
    series = SeriesPointSerializer(many=True)


class DurationStatisticsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    median = serializers.FloatField(allow_null=True, help_text="Seconds.")
    p90 = serializers.FloatField(allow_null=True, help_text="Seconds.")
    average = serializers.FloatField(allow_null=True, help_text="Seconds.")


class ResponseTimeFiguresSerializer(serializers.Serializer):
    first_response = DurationStatisticsSerializer()
    resolution = DurationStatisticsSerializer()


class AgentResponseTimeSerializer(ResponseTimeFiguresSerializer):
    agent_id = serializers.UUIDField()
    agent_name = serializers.CharField()


class ChannelResponseTimeSerializer(ResponseTimeFiguresSerializer):
    platform = serializers.ChoiceField(choices=Platform.choices)


class ResponseTimeSerializer(PeriodSerializer):
    overall = ResponseTimeFiguresSerializer()
    by_agent = AgentResponseTimeSerializer(many=True)
    by_channel = ChannelResponseTimeSerializer(many=True)


class AnalyticsUsageMetricsSerializer(serializers.Serializer):
    requests = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    cost = serializers.DecimalField(max_digits=14, decimal_places=6)


class AnalyticsUsageDaySerializer(AnalyticsUsageMetricsSerializer):
    date = serializers.DateField()


class AnalyticsUsagePurposeSerializer(AnalyticsUsageMetricsSerializer):
    purpose = serializers.CharField()


class AnalyticsUsageSerializer(PeriodSerializer):
    totals = AnalyticsUsageMetricsSerializer()
    by_day = AnalyticsUsageDaySerializer(many=True)
    by_purpose = AnalyticsUsagePurposeSerializer(many=True)


class RangeQuerySerializer(WindowQuerySerializer):
    """``from`` and ``to`` only: the reports that have no series."""

    granularity = None


class AssistantFiguresSerializer(serializers.Serializer):
    assistant_id = serializers.UUIDField()
    assistant_name = serializers.CharField()
    type = serializers.CharField()
    status = serializers.CharField()
    conversations_handled = serializers.IntegerField(
        help_text="Conversations created in the window with this assigned assistant."
    )
    resolved = serializers.IntegerField(help_text="Handled conversations that were resolved.")
    messages_sent = serializers.IntegerField()
    automation_rate = serializers.FloatField(
        allow_null=True,
        help_text="Resolved with an assistant reply and no agent reply, over resolved (0-1).",
    )
    handoff_rate = serializers.FloatField(
        allow_null=True,
        help_text="Handled with an agent reply or an assigned agent, over handled (0-1).",
    )
    ai_tokens = serializers.IntegerField()
    ai_cost = serializers.DecimalField(max_digits=14, decimal_places=6)


class AssistantsReportSerializer(PeriodSerializer):
    assistants = AssistantFiguresSerializer(many=True)


class AgentSatisfactionSerializer(serializers.Serializer):
    agent_id = serializers.UUIDField()
    name = serializers.CharField()
    average = serializers.FloatField(allow_null=True)
    ratings = serializers.IntegerField()


class AssistantSatisfactionSerializer(serializers.Serializer):
    assistant_id = serializers.UUIDField()
    name = serializers.CharField()
    average = serializers.FloatField(allow_null=True)
    ratings = serializers.IntegerField()


class SatisfactionSerializer(PeriodSerializer):
    average = serializers.FloatField(allow_null=True, help_text="Mean score (1-5).")
    ratings = serializers.IntegerField(help_text="Ratings given in the window.")
    distribution = serializers.DictField(
        child=serializers.IntegerField(), help_text='Ratings per score, "1" to "5".'
    )
    surveys_sent = serializers.IntegerField()
    responses = serializers.IntegerField(help_text="Surveys sent in the window and answered.")
    response_rate = serializers.FloatField(allow_null=True, help_text="responses / surveys_sent.")
    by_agent = AgentSatisfactionSerializer(many=True)
    by_assistant = AssistantSatisfactionSerializer(many=True)
