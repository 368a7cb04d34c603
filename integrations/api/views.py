"""Integration management (workspace admins) and webhook operations."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import IsWorkspaceAdmin, IsWorkspaceMember
from assistants.selectors import assistant_get_for
from flame.api.lookups import related_or_400
from flame.exceptions import NotFoundError
from integrations import commands, ingest, selectors, services, templates
from integrations.api import serializers as s
from integrations.models import Integration
from integrations.providers import provider_spec

UUID_PATTERN = "[0-9a-fA-F-]{32,36}"


def _assistant_or_400(user, assistant_id):
    if assistant_id is None:
        return None
    return related_or_400(
        assistant_get_for, "default_assistant_id", user=user, assistant_id=assistant_id
    )


class IntegrationViewSet(viewsets.GenericViewSet):
    permission_classes = [IsWorkspaceAdmin]
    serializer_class = s.IntegrationSerializer
    lookup_value_regex = UUID_PATTERN
    queryset = Integration.objects.none()

    def get_queryset(self):
        return selectors.integration_list_for(user=self.request.user)

    def _integration(self) -> Integration:
        return selectors.integration_get_for(
            user=self.request.user, integration_id=self.kwargs["pk"]
        )

    def _respond(self, integration: Integration, code: int = status.HTTP_200_OK) -> Response:
        return Response(s.IntegrationSerializer(integration).data, status=code)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.IntegrationSerializer(page, many=True).data)

    @extend_schema(request=s.IntegrationCreateSerializer, responses={201: s.IntegrationSerializer})
    def create(self, request):
        data = s.IntegrationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        assistant = _assistant_or_400(request.user, values.pop("default_assistant_id", None))
        integration = services.integration_create(
            by=request.user, default_assistant=assistant, **values
        )
        return self._respond(integration, status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        return self._respond(self._integration())

    @extend_schema(request=s.IntegrationUpdateSerializer, responses={200: s.IntegrationSerializer})
    def update(self, request, pk=None, partial=False):
        integration = self._integration()
        data = s.IntegrationUpdateSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "default_assistant_id" in values:
            values["default_assistant"] = _assistant_or_400(
                request.user, values.pop("default_assistant_id")
            )
        return self._respond(services.integration_update(integration=integration, **values))

    @extend_schema(request=s.IntegrationUpdateSerializer, responses={200: s.IntegrationSerializer})
    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        services.integration_delete(integration=self._integration())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: s.IntegrationSerializer})
    @action(detail=True, methods=["post"])
    def connect(self, request, pk=None):
        return self._respond(services.integration_connect(integration=self._integration()))

    @extend_schema(request=None, responses={200: s.IntegrationSerializer})
    @action(detail=True, methods=["post"])
    def disconnect(self, request, pk=None):
        return self._respond(services.integration_disconnect(integration=self._integration()))

    @extend_schema(responses={200: s.IntegrationStatusSerializer})
    @action(detail=True, methods=["get"], url_path="status")
    def connection_status(self, request, pk=None):
        integration = self._integration()
        return Response(
            {
                "status": integration.status,
                "last_webhook_at": integration.last_webhook_at,
                "last_sync": integration.last_sync,
                "last_error": integration.last_error,
                "counts": selectors.integration_status_counts(integration=integration),
            }
        )

    @extend_schema(responses={200: s.MessageTemplateSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)  # a whole list, never paged
    def templates(self, request, pk=None):
        """The channel's message templates as last synced, every status (WhatsApp)."""
        integration = self._integration()
        rows = selectors.message_templates_for(integration=integration)
        return Response(s.MessageTemplateSerializer(rows, many=True).data)

    @extend_schema(request=None, responses={200: s.TemplateSyncSerializer})
    @action(detail=True, methods=["post"], url_path="templates/sync")
    def sync_templates(self, request, pk=None):
        """Fetch the templates from the business account now (they also sync every 6 hours
        and on every review webhook)."""
        synced = templates.templates_sync(integration=self._integration())
        return Response({"synced": synced})


class BotCommandsView(APIView):
    """The bot command menu of the workspace, registered on every Telegram bot."""

    permission_classes = [IsWorkspaceAdmin]

    @extend_schema(responses={200: s.BotCommandsSerializer})
    def get(self, request):
        return Response({"commands": commands.bot_commands_for(request.user.workspace)})

    @extend_schema(request=s.BotCommandsSerializer, responses={200: s.BotCommandsResultSerializer})
    def put(self, request):
        data = s.BotCommandsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entries = [dict(entry) for entry in data.validated_data["commands"]]
        registrations = commands.bot_commands_update(by=request.user, commands=entries)
        channels = [
            {"integration_id": str(r.integration.pk), "name": r.integration.name, "error": r.error}
            for r in registrations
        ]
        return Response({"commands": entries, "channels": channels})


class WebhookStatsView(APIView):
    permission_classes = [IsWorkspaceAdmin]

    @extend_schema(responses={200: s.PlatformStatsSerializer(many=True)})
    def get(self, request):
        return Response(selectors.webhook_stats_for(user=request.user))


class WebhookRetryView(APIView):
    permission_classes = [IsWorkspaceAdmin]

    @extend_schema(request=s.WebhookRetrySerializer, responses={200: s.WebhookRetrySerializer})
    def post(self, request):
        data = s.WebhookRetrySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        events = selectors.webhook_events_for(user=request.user)
        if "ids" in data.validated_data:
            events = events.filter(pk__in=data.validated_data["ids"])
        return Response({"retried": ingest.webhook_events_retry(events=events)})


class SandboxWebhookView(APIView):
    """The customer simulator: a member posts as a customer of their sandbox channel."""

    permission_classes = [IsWorkspaceMember]

    @extend_schema(request=s.SandboxMessageSerializer, responses={202: None})
    def post(self, request, integration_id):
        integration = selectors.integration_get_for(
            user=request.user, integration_id=integration_id
        )
        if not provider_spec(integration.platform).simulated:
            raise NotFoundError("Not found.")
        data = s.SandboxMessageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = ingest.sandbox_message_store(
            integration=integration,
            sender=data.validated_data["sender"],
            name=data.validated_data.get("name", ""),
            text=data.validated_data["text"],
            message_id=uuid.uuid4().hex,
        )
        return Response({"event_id": event.pk if event else None}, status=status.HTTP_202_ACCEPTED)
