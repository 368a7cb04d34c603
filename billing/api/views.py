"""The payments API (workspace admins), notices (members) and the operators' API (staff).

Thin interfaces: reads from ``billing.selectors``, each write one service call.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import IsWorkspaceAdmin, IsWorkspaceMember
from billing import selectors, services
from billing.api import serializers as s
from billing.api.permissions import IsPlatformStaff
from billing.models import Invoice
from flame.api.pagination import CreatedCursorPagination
from flame.logging import recent_errors


class PlansView(APIView):
    """The plans on sale: price, daily AI quota, limits, and where each can be paid."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: s.PlanListSerializer})
    def get(self, request):
        return Response(s.PlanListSerializer({"results": selectors.plan_catalogue()}).data)


class SubscriptionView(APIView):
    """The workspace's plan, its subscription, and today's usage against the plan."""

    permission_classes = [IsWorkspaceAdmin]

    @extend_schema(responses={200: s.BillingOverviewSerializer})
    def get(self, request):
        overview = selectors.billing_overview_for(user=request.user, at=timezone.now())
        return Response(s.BillingOverviewSerializer(overview).data)


class SubscribeView(APIView):
    """Subscribe (201 with the provider's checkout address) or, with a subscription at this
    provider already, change its plan (200 with the subscription as changed)."""

    permission_classes = [IsWorkspaceAdmin]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "provider_name",
                str,
                OpenApiParameter.PATH,
                enum=["stripe", "lemonsqueezy"],
                description="The payment provider.",
            )
        ],
        request=s.SubscribeSerializer,
        responses={200: s.SubscribeResultSerializer, 201: s.SubscribeResultSerializer},
    )
    def post(self, request, provider_name: str):
        data = s.SubscribeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.subscription_subscribe(
            by=request.user, provider_name=provider_name, plan=data.validated_data["plan"]
        )
        body = {"checkout_url": result.checkout_url or None, "subscription": result.subscription}
        code = status.HTTP_201_CREATED if result.checkout_url else status.HTTP_200_OK
        return Response(s.SubscribeResultSerializer(body).data, status=code)


class CancelView(APIView):
    """Cancel at the end of the paid period; the plan stays until then."""

    permission_classes = [IsWorkspaceAdmin]

    @extend_schema(request=None, responses={200: s.SubscriptionResultSerializer})
    def post(self, request):
        subscription = services.subscription_cancel(by=request.user)
        return Response(s.SubscriptionResultSerializer({"subscription": subscription}).data)


class PortalView(APIView):
    """The provider's customer portal: payment methods, invoices, cancellation."""

    permission_classes = [IsWorkspaceAdmin]

    @extend_schema(request=None, responses={200: s.PortalSerializer})
    def post(self, request):
        return Response({"url": services.billing_portal_url(by=request.user)})


class InvoicePagination(CreatedCursorPagination):
    ordering = ("-issued_at", "-id")


class InvoiceListView(generics.ListAPIView):
    permission_classes = [IsWorkspaceAdmin]
    serializer_class = s.InvoiceSerializer
    pagination_class = InvoicePagination
    queryset = Invoice.objects.none()  # schema only; requests use the selector

    def get_queryset(self):
        return selectors.invoices_for(user=self.request.user)


class PaymentMethodsView(APIView):
    """The cards on file at the provider."""

    permission_classes = [IsWorkspaceAdmin]

    @extend_schema(responses={200: s.PaymentMethodListSerializer})
    def get(self, request):
        methods = selectors.payment_methods_for(user=request.user)
        return Response(s.PaymentMethodListSerializer({"results": methods}).data)


class NoticeListView(APIView):
    """The notices the member has not dismissed (admins get billing's and the platform's)."""

    permission_classes = [IsWorkspaceMember]

    @extend_schema(responses={200: s.NoticeListSerializer})
    def get(self, request):
        notices = selectors.notices_for(user=request.user)[:20]
        return Response(s.NoticeListSerializer({"results": notices}).data)


class NoticeDismissView(APIView):
    permission_classes = [IsWorkspaceMember]

    @extend_schema(request=None, responses={204: OpenApiResponse(description="Dismissed.")})
    def post(self, request, notice_id):
        services.notice_dismiss(user=request.user, notice_id=notice_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- operators ----------------------------------------------------------------------------------


class AdminMetricsView(APIView):
    """The platform's figures: workspaces by plan, MRR, and per UTC day messages, AI use and
    cost and failed webhooks; sockets open now."""

    permission_classes = [IsPlatformStaff]

    @extend_schema(parameters=[s.MetricsQuerySerializer], responses=s.PlatformMetricsSerializer)
    def get(self, request):
        query = s.MetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        figures = selectors.platform_metrics(days=query.validated_data["days"], now=timezone.now())
        return Response(s.PlatformMetricsSerializer(figures).data)


class AdminNotificationsView(APIView):
    """A notice to the admins of every workspace, shown at the top of their pages."""

    permission_classes = [IsPlatformStaff]

    @extend_schema(request=s.NoticeCreateSerializer, responses={201: s.NoticeSerializer})
    def post(self, request):
        data = s.NoticeCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        notice = services.notice_broadcast(by=request.user, **data.validated_data)
        return Response(s.NoticeSerializer(notice).data, status=status.HTTP_201_CREATED)


class AdminLogsView(APIView):
    """The newest error-level log entries of every process (redacted as logged)."""

    permission_classes = [IsPlatformStaff]

    @extend_schema(parameters=[s.LogsQuerySerializer], responses={200: s.LogListSerializer})
    def get(self, request):
        query = s.LogsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        entries = recent_errors(redis_url=settings.REDIS_URL, limit=query.validated_data["limit"])
        return Response({"results": entries})
