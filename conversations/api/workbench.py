"""The agent workbench's endpoints on the core: private notes, snooze, one change to many
conversations, unread counts per inbox tab, a conversation's history lines, the contact panel
(earlier conversations, custom attributes) and merging tags. Thin, like the rest of the API:
reads from ``conversations.selectors``, writes through one service each."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import IsWorkspaceAdmin, IsWorkspaceAdminOrReadOnly, IsWorkspaceMember
from accounts.selectors import user_get_for
from conversations import selectors, services
from conversations.api import serializers as s
from conversations.api.views import UUID_PATTERN, MessagePagination
from conversations.models import ContactAttribute
from conversations.serializers import (
    ContactAttributeSerializer,
    ConversationSerializer,
    MessageSerializer,
    TagSerializer,
    conversation_data,
)
from flame.api.lookups import related_or_400
from flame.api.pagination import CreatedCursorPagination
from flame.exceptions import InvalidInput


def _conversation(request, pk, *, for_update: bool = False):
    return selectors.conversation_get_for(
        user=request.user, conversation_id=pk, for_update=for_update
    )


class NoteListView(APIView):
    """A conversation's private notes (``GET``, newest first) and a new one (``POST``)."""

    permission_classes = [IsWorkspaceMember]
    pagination_class = MessagePagination

    @extend_schema(responses={200: MessageSerializer(many=True)})
    def get(self, request, pk):
        notes = selectors.message_list_for(user=request.user, conversation_id=pk).filter(
            private=True
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(notes, request, view=self)
        return paginator.get_paginated_response(MessageSerializer(page, many=True).data)

    @extend_schema(request=s.NoteCreateSerializer, responses={201: MessageSerializer})
    def post(self, request, pk):
        return note_created(request, _conversation(request, pk))


def note_created(request, conversation) -> Response:
    """Validate a note's body and add it (``POST /notes`` and ``POST /messages`` with
    ``private: true``)."""
    data = s.NoteCreateSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    note = services.note_add(
        by=request.user, conversation=conversation, content=data.validated_data["content"]
    )
    return Response(MessageSerializer(note).data, status=status.HTTP_201_CREATED)


class SnoozeView(APIView):
    """Snooze an open conversation until a time, or until the customer writes (``null``)."""

    permission_classes = [IsWorkspaceMember]

    @extend_schema(request=s.SnoozeSerializer, responses={200: ConversationSerializer})
    def post(self, request, pk):
        data = s.SnoozeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            conversation = services.conversation_snooze(
                by=request.user,
                conversation=_conversation(request, pk, for_update=True),
                until=data.validated_data["until"],
            )
        return Response(ConversationSerializer(conversation).data)


class UnsnoozeView(APIView):
    permission_classes = [IsWorkspaceMember]

    @extend_schema(request=None, responses={200: ConversationSerializer})
    def post(self, request, pk):
        with transaction.atomic():
            conversation = services.conversation_unsnooze(
                by=request.user, conversation=_conversation(request, pk, for_update=True)
            )
        return Response(ConversationSerializer(conversation).data)


class ActivityListView(APIView):
    """A conversation's history lines (assigned, resolved, snoozed, ...), oldest first."""

    permission_classes = [IsWorkspaceMember]

    @extend_schema(responses={200: s.ActivitySerializer(many=True)})
    def get(self, request, pk):
        events = selectors.activity_list_for(user=request.user, conversation_id=pk)
        return Response(
            [
                {
                    "id": event.id,
                    "conversation_id": event.conversation_id,
                    "created_at": event.created_at,
                    "activity": event.payload.get("activity", {}),
                }
                for event in events
            ]
        )


class UnreadCountsView(APIView):
    """Open conversations with unread messages, per inbox tab."""

    permission_classes = [IsWorkspaceMember]

    @extend_schema(responses={200: s.UnreadCountsSerializer})
    def get(self, request):
        return Response(selectors.unread_counts_for(user=request.user))


class BulkView(APIView):
    """One change to many conversations: all of them, in one transaction, or none."""

    permission_classes = [IsWorkspaceMember]

    @extend_schema(request=s.BulkSerializer, responses={200: s.BulkResultSerializer})
    def post(self, request):
        data = s.BulkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        change = services.BulkChange(**self._change(request, values))
        ids = list(dict.fromkeys(values["conversation_ids"]))
        with transaction.atomic():
            conversations = selectors.conversations_locked_for(
                user=request.user, conversation_ids=ids
            )
            self._ensure_all_found(ids, conversations)
            changed = services.conversations_bulk_update(
                by=request.user, conversations=conversations, change=change
            )
        return Response({"conversations": [conversation_data(item) for item in changed]})

    def _change(self, request, values) -> dict:
        change = {"action": values["action"]}
        if "agent_id" in values:
            agent_id = values["agent_id"]
            change["agent"] = agent_id and related_or_400(
                user_get_for, "agent_id", actor=request.user, user_id=agent_id
            )
        for name in ("status", "priority", "until"):
            if name in values:
                change[name] = values[name]
        if "tag" in values:
            change["tag"] = values["tag"].strip()
        return change

    def _ensure_all_found(self, ids, conversations) -> None:
        found = {conversation.pk for conversation in conversations}
        missing = [str(pk) for pk in ids if pk not in found]
        if missing:
            # Ids in a body: another workspace's (or out of sight) is invalid input, not a 404.
            raise InvalidInput(
                "Invalid input.",
                details={"conversation_ids": [f"Not found: {', '.join(missing)}."]},
            )


class ContactConversationsView(APIView):
    """The contact's conversations the caller may see, newest first (the contact panel)."""

    permission_classes = [IsWorkspaceMember]
    pagination_class = CreatedCursorPagination

    @extend_schema(responses={200: ConversationSerializer(many=True)})
    def get(self, request, pk):
        conversations = selectors.contact_conversations_for(user=request.user, contact_id=pk)
        paginator = _LastActivityPagination()
        page = paginator.paginate_queryset(conversations, request, view=self)
        return paginator.get_paginated_response(ConversationSerializer(page, many=True).data)


class _LastActivityPagination(CreatedCursorPagination):
    ordering = ("-last_message_at", "-id")
    page_size = 10


class TagMergeView(APIView):
    """Fold a tag into another (admins): its conversations get the other, it is deleted."""

    permission_classes = [IsWorkspaceAdmin]

    @extend_schema(request=s.TagMergeSerializer, responses={200: TagSerializer})
    def post(self, request, pk):
        data = s.TagMergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        source = selectors.tag_get_for(user=request.user, tag_id=pk)
        target = related_or_400(
            selectors.tag_get_for, "into", user=request.user, tag_id=data.validated_data["into"]
        )
        return Response(TagSerializer(services.tag_merge(source=source, target=target)).data)


class ContactAttributeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The custom fields every contact of the workspace has: members read, admins write."""

    permission_classes = [IsWorkspaceAdminOrReadOnly]
    serializer_class = ContactAttributeSerializer
    lookup_value_regex = UUID_PATTERN
    queryset = ContactAttribute.objects.none()
    pagination_class = None

    def get_queryset(self):
        return selectors.contact_attribute_list_for(user=self.request.user)

    def get_object(self):
        return selectors.contact_attribute_get_for(
            user=self.request.user, attribute_id=self.kwargs["pk"]
        )

    @extend_schema(
        request=s.ContactAttributeWriteSerializer, responses={201: ContactAttributeSerializer}
    )
    def create(self, request):
        data = s.ContactAttributeWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attribute = services.contact_attribute_create(by=request.user, **data.validated_data)
        return Response(ContactAttributeSerializer(attribute).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.ContactAttributeUpdateSerializer, responses={200: ContactAttributeSerializer}
    )
    def partial_update(self, request, pk=None):
        data = s.ContactAttributeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attribute = services.contact_attribute_update(
            attribute=self.get_object(), label=data.validated_data["label"]
        )
        return Response(ContactAttributeSerializer(attribute).data)

    def perform_destroy(self, instance):
        services.contact_attribute_delete(attribute=instance)
