"""Outgoing webhook endpoints and their delivery logs (admins, or keys with webhooks:admin)."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.permissions import IsWorkspaceAdmin
from outgoing_webhooks import selectors, services
from outgoing_webhooks.api import serializers as s
from outgoing_webhooks.models import WebhookEndpoint
from outgoing_webhooks.tasks import deliver_webhook_task

UUID_PATTERN = "[0-9a-fA-F-]{32,36}"


class EndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [IsWorkspaceAdmin]
    serializer_class = s.EndpointSerializer
    queryset = WebhookEndpoint.objects.none()  # for schema generation; requests use selectors
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self):
        return selectors.endpoint_list_for(actor=self.request.user)

    def get_object(self):
        return selectors.endpoint_get_for(actor=self.request.user, endpoint_id=self.kwargs["pk"])

    @extend_schema(request=s.EndpointCreateSerializer, responses={201: s.EndpointCreatedSerializer})
    def create(self, request, *args, **kwargs):
        data = s.EndpointCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_create(by=request.user, **data.validated_data)
        body = {**s.EndpointSerializer(endpoint).data, "secret": endpoint.secret}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.EndpointUpdateSerializer, responses={200: s.EndpointSerializer})
    def update(self, request, *args, **kwargs):
        endpoint = self.get_object()
        data = s.EndpointUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(
            by=request.user, endpoint=endpoint, **data.validated_data
        )
        return Response(s.EndpointSerializer(endpoint).data)

    def destroy(self, request, *args, **kwargs):
        services.endpoint_delete(by=request.user, endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: s.DeliverySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """The delivery log, newest first, each with its tries."""
        deliveries = selectors.delivery_list_for(endpoint=self.get_object())
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(s.DeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses={202: s.DeliverySerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path=f"deliveries/(?P<delivery_id>{UUID_PATTERN})/redeliver",
    )
    def redeliver(self, request, pk=None, delivery_id=None):
        """Send a delivery again now (same id and body)."""
        delivery = selectors.delivery_get_for(endpoint=self.get_object(), delivery_id=delivery_id)
        delivery = services.delivery_redeliver(by=request.user, delivery=delivery)
        transaction.on_commit(lambda: deliver_webhook_task.delay(str(delivery.pk)), robust=True)
        return Response(s.DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
