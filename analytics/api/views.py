from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import IsWorkspaceMember
from analytics import selectors
from analytics.api import serializers as s
from assistants.schedule import workspace_zone


class AnalyticsView(APIView):
    """Parses the window, runs one selector, renders one serializer."""

    permission_classes = [IsWorkspaceMember]
    report = staticmethod(selectors.dashboard_for)
    output_serializer: type = s.DashboardSerializer

    def get(self, request):
        zone = workspace_zone(request.user.workspace.timezone)
        query = s.WindowQuerySerializer(data=request.query_params, context={"zone": zone})
        query.is_valid(raise_exception=True)
        report = self.report(user=request.user, window=query.validated_data)
        return Response(self.output_serializer(report).data)


@extend_schema(parameters=[s.WindowQuerySerializer], responses={200: s.DashboardSerializer})
class DashboardView(AnalyticsView):
    """Conversations created in the window by status, platform and priority; previous period."""

    report = staticmethod(selectors.dashboard_for)
    output_serializer = s.DashboardSerializer


@extend_schema(
    parameters=[s.WindowQuerySerializer], responses={200: s.ConversationSeriesSerializer}
)
class ConversationSeriesView(AnalyticsView):
    """New and resolved conversations, messages in and out, per local day or week."""

    report = staticmethod(selectors.conversation_series_for)
    output_serializer = s.ConversationSeriesSerializer


@extend_schema(parameters=[s.WindowQuerySerializer], responses={200: s.ResponseTimeSerializer})
class ResponseTimeView(AnalyticsView):
    """First response and resolution times in seconds: overall, by agent and by channel."""

    report = staticmethod(selectors.response_time_for)
    output_serializer = s.ResponseTimeSerializer


@extend_schema(parameters=[s.WindowQuerySerializer], responses={200: s.AnalyticsUsageSerializer})
class UsageView(AnalyticsView):
    """AI calls, tokens and cost in the window: totals, per local day and per purpose."""

    report = staticmethod(selectors.usage_for)
    output_serializer = s.AnalyticsUsageSerializer
