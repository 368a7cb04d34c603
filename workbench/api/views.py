"""The workbench API: notifications, preferences, saved replies and auto-assignment settings.
Thin: reads through ``workbench.selectors``, writes through one service each."""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import IsWorkspaceAdmin, IsWorkspaceMember
from accounts.selectors import user_get_for
from conversations.api.views import UUID_PATTERN
from conversations.selectors import conversation_get_for
from flame.api.lookups import related_or_400
from flame.api.pagination import CreatedCursorPagination
from workbench import selectors, services
from workbench.api import serializers as s
from workbench.models import Notification, SavedReply
from workbench.serializers import (
    NotificationPreferenceSerializer,
    NotificationSerializer,
    SavedReplySerializer,
)
from workbench.services.notifications import preferences_of, unread_count


class NotificationViewSet(viewsets.GenericViewSet):
    """The member's own notifications, newest first; nobody else's exist for them."""

    permission_classes = [IsWorkspaceMember]
    serializer_class = NotificationSerializer
    pagination_class = CreatedCursorPagination
    lookup_value_regex = UUID_PATTERN
    queryset = Notification.objects.none()

    @extend_schema(parameters=[s.NotificationQuerySerializer])
    def list(self, request):
        query = s.NotificationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        notifications = selectors.notification_list_for(
            user=request.user, unread=query.validated_data["unread"]
        )
        page = self.paginate_queryset(notifications)
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)

    @extend_schema(request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = selectors.notification_get_for(user=request.user, notification_id=pk)
        notification = services.notification_mark_read(user=request.user, notification=notification)
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses={200: s.UnreadCountSerializer})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        services.notifications_mark_all_read(user=request.user)
        return Response({"unread": 0})

    @extend_schema(request=s.ReadConversationSerializer, responses={200: s.UnreadCountSerializer})
    @action(detail=False, methods=["post"], url_path="read-conversation")
    def read_conversation(self, request):
        """Read what was said about one conversation (the inbox opened it)."""
        data = s.ReadConversationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = related_or_400(
            conversation_get_for,
            "conversation_id",
            user=request.user,
            conversation_id=data.validated_data["conversation_id"],
        )
        services.notifications_read_for_conversation(user=request.user, conversation=conversation)
        return Response({"unread": unread_count(request.user.pk)})

    @extend_schema(responses={200: s.UnreadCountSerializer})
    @action(detail=False, methods=["get"])
    def count(self, request):
        return Response({"unread": unread_count(request.user.pk)})


class PreferencesView(APIView):
    """What the member is notified of, and how."""

    permission_classes = [IsWorkspaceMember]

    @extend_schema(responses={200: NotificationPreferenceSerializer})
    def get(self, request):
        return Response(NotificationPreferenceSerializer(preferences_of(request.user.pk)).data)

    @extend_schema(
        request=s.PreferencesSerializer, responses={200: NotificationPreferenceSerializer}
    )
    def patch(self, request):
        data = s.PreferencesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        preference = services.preferences_update(user=request.user, changes=data.validated_data)
        return Response(NotificationPreferenceSerializer(preference).data)


class SavedReplyViewSet(viewsets.GenericViewSet):
    """The workspace's saved replies and the member's own (``personal``)."""

    permission_classes = [IsWorkspaceMember]
    serializer_class = SavedReplySerializer
    pagination_class = None
    lookup_value_regex = UUID_PATTERN
    queryset = SavedReply.objects.none()

    def _reply(self) -> SavedReply:
        return selectors.saved_reply_get_for(user=self.request.user, reply_id=self.kwargs["pk"])

    @extend_schema(parameters=[s.SavedReplyQuerySerializer])
    def list(self, request):
        query = s.SavedReplyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        replies = selectors.saved_reply_list_for(
            user=request.user, search=query.validated_data.get("search")
        )
        return Response(SavedReplySerializer(replies, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(SavedReplySerializer(self._reply()).data)

    @extend_schema(request=s.SavedReplyWriteSerializer, responses={201: SavedReplySerializer})
    def create(self, request):
        data = s.SavedReplyWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reply = services.saved_reply_create(by=request.user, **data.validated_data)
        return Response(SavedReplySerializer(reply).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.SavedReplyUpdateSerializer, responses={200: SavedReplySerializer})
    def partial_update(self, request, pk=None):
        data = s.SavedReplyUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reply = services.saved_reply_update(
            by=request.user, reply=self._reply(), **data.validated_data
        )
        return Response(SavedReplySerializer(reply).data)

    def destroy(self, request, pk=None):
        services.saved_reply_delete(by=request.user, reply=self._reply())
        return Response(status=status.HTTP_204_NO_CONTENT)


def _settings_data(user) -> dict:
    return {
        "channels": [asdict(row) for row in selectors.channel_rows_for(user=user)],
        "agents": [asdict(row) for row in selectors.agent_rows_for(user=user)],
        "waiting_alert_minutes": selectors.waiting_alert_minutes_for(user=user),
    }


class AssignmentSettingsView(APIView):
    """Auto-assignment per channel, each member's capacity and the waiting alert (admins)."""

    permission_classes = [IsWorkspaceAdmin]

    @extend_schema(responses={200: s.AssignmentSettingsSerializer})
    def get(self, request):
        return Response(s.AssignmentSettingsSerializer(_settings_data(request.user)).data)

    @extend_schema(
        request=s.WaitingAlertSerializer, responses={200: s.AssignmentSettingsSerializer}
    )
    def patch(self, request):
        data = s.WaitingAlertSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.waiting_alert_set(
            by=request.user, minutes=data.validated_data["waiting_alert_minutes"]
        )
        return Response(s.AssignmentSettingsSerializer(_settings_data(request.user)).data)


class ChannelAssignmentView(APIView):
    permission_classes = [IsWorkspaceAdmin]

    @extend_schema(
        request=s.ChannelAutoAssignSerializer, responses={200: s.AssignmentSettingsSerializer}
    )
    def patch(self, request, pk):
        channel = selectors.channel_get_for(user=request.user, integration_id=pk)
        data = s.ChannelAutoAssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.channel_auto_assign_set(
            by=request.user, integration=channel, auto_assign=data.validated_data["auto_assign"]
        )
        return Response(s.AssignmentSettingsSerializer(_settings_data(request.user)).data)


class AgentCapacityView(APIView):
    permission_classes = [IsWorkspaceAdmin]

    @extend_schema(request=s.CapacitySerializer, responses={200: s.AssignmentSettingsSerializer})
    def patch(self, request, pk):
        member = user_get_for(actor=request.user, user_id=pk)
        data = s.CapacitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.agent_capacity_set(
            by=request.user, member=member, capacity=data.validated_data["capacity"]
        )
        return Response(s.AssignmentSettingsSerializer(_settings_data(request.user)).data)
