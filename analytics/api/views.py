from __future__ import annotations

import csv
import logging
from collections.abc import AsyncIterator, Iterator
from itertools import islice

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import plans
from accounts.api.permissions import IsWorkspaceMember
from analytics import selectors, services
from analytics.api import serializers as s
from assistants.schedule import workspace_zone
from flame.streaming import stream_body

logger = logging.getLogger(__name__)


class AnalyticsView(APIView):
    """Parses the window, runs one selector, renders one serializer."""

    permission_classes = [IsWorkspaceMember]
    report = staticmethod(selectors.dashboard_for)
    output_serializer: type = s.DashboardSerializer
    query_serializer: type = s.WindowQuerySerializer

    def window(self, request) -> selectors.Window:
        workspace = request.user.workspace
        zone = workspace_zone(workspace.timezone)
        query = self.query_serializer(data=request.query_params, context={"zone": zone})
        query.is_valid(raise_exception=True)
        window = query.validated_data
        # How far back reports reach is part of the plan (accounts.plans).
        plans.check_report_start(
            plan_code=workspace.plan,
            first_day=window.first_day,
            today=timezone.localdate(timezone=zone),
        )
        return window

    def get(self, request):
        report = self.report(user=request.user, window=self.window(request))
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


@extend_schema(parameters=[s.RangeQuerySerializer], responses={200: s.AssistantsReportSerializer})
class AssistantsView(AnalyticsView):
    """Per assistant: conversations handled, replies, automation and hand-off rates, AI cost."""

    report = staticmethod(selectors.assistants_for)
    output_serializer = s.AssistantsReportSerializer
    query_serializer = s.RangeQuerySerializer


class _Echo:
    """A file-like object whose ``write`` returns the line: csv.writer into a generator."""

    def write(self, value: str) -> str:
        return value


# Rows per piece of the response: one write (and under ASGI one thread hop) per piece.
EXPORT_ROWS_PER_CHUNK = 500


def _csv_chunks(rows: Iterator[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    while chunk := list(islice(rows, EXPORT_ROWS_PER_CHUNK)):
        yield "".join(writer.writerow(row) for row in chunk)


def _streamed(request, rows: Iterator[list]) -> Iterator[str] | AsyncIterator[str]:
    # The query runs for the first chunk, in stream_body: if it fails, the client still gets an
    # API error instead of a 200 with a broken body.
    return stream_body(request, _csv_chunks(rows), what="The CSV export")


class JSONErrorsOnly(BaseContentNegotiation):
    """The CSV is not rendered by DRF; errors are always the API's JSON, whatever Accept says."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ExportView(AnalyticsView):
    """One CSV row per conversation created in the window, streamed."""

    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONErrorsOnly
    query_serializer = s.RangeQuerySerializer

    @extend_schema(
        operation_id="analytics_export_csv",
        parameters=[s.RangeQuerySerializer],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request):
        window = self.window(request)
        services.export_record(
            by=request.user, first_day=window.first_day, last_day=window.last_day
        )
        rows = selectors.export_rows(user=request.user, window=window)
        response = StreamingHttpResponse(
            _streamed(request._request, rows), content_type="text/csv; charset=utf-8"
        )
        filename = f"conversations-{window.first_day}-{window.last_day}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


@extend_schema(parameters=[s.RangeQuerySerializer], responses={200: s.SatisfactionSerializer})
class SatisfactionView(AnalyticsView):
    """CSAT: average, distribution 1-5, survey response rate, by agent and by assistant."""

    report = staticmethod(selectors.satisfaction_for)
    output_serializer = s.SatisfactionSerializer
    query_serializer = s.RangeQuerySerializer
