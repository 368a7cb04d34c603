"""Conversations, messages, tags, contacts and the event catch-up feed. Thin interfaces:
every queryset comes from ``conversations.selectors``, every write from ``services``."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import IsWorkspaceAdminOrReadOnly, IsWorkspaceMember
from accounts.selectors import user_get_for
from conversations import hooks, selectors, services
from conversations.api import serializers as s
from conversations.files import file_response
from conversations.models import Contact, Conversation, Message, Tag
from conversations.realtime import event_wire
from conversations.serializers import (
    AttachmentSerializer,
    ContactSerializer,
    ConversationSerializer,
    MessageSerializer,
    TagSerializer,
)
from conversations.services.attachments import attachment_kind_for
from flame.api.lookups import related_or_400
from flame.api.pagination import CreatedCursorPagination
from flame.exceptions import InvalidInput, NotFoundError

UUID_PATTERN = "[0-9a-fA-F-]{32,36}"
_ABSENT = object()  # a body field not given, where null means "unassign"


class ConversationPagination(CreatedCursorPagination):
    ordering = ("-last_message_at", "-id")


class MessagePagination(CreatedCursorPagination):
    """Newest page first; ``previous`` walks back in time as the thread scrolls up."""

    ordering = ("-created_at", "-id")
    page_size = 50


class ConversationViewSet(viewsets.GenericViewSet):
    permission_classes = [IsWorkspaceMember]
    serializer_class = ConversationSerializer
    pagination_class = ConversationPagination
    lookup_value_regex = UUID_PATTERN
    queryset = Conversation.objects.none()  # schema only; requests use the selectors

    def _conversation(self, *, for_update: bool = False) -> Conversation:
        return selectors.conversation_get_for(
            user=self.request.user, conversation_id=self.kwargs["pk"], for_update=for_update
        )

    def _respond(self, conversation: Conversation, code: int = status.HTTP_200_OK) -> Response:
        return Response(ConversationSerializer(conversation).data, status=code)

    @extend_schema(parameters=[s.ConversationFilterSerializer])
    def list(self, request):
        params = s.ConversationFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = selectors.ConversationFilters(**params.validated_data)
        queryset = selectors.conversation_list_for(user=request.user, filters=filters)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(ConversationSerializer(page, many=True).data)

    @extend_schema(request=s.ConversationCreateSerializer, responses={201: ConversationSerializer})
    def create(self, request):
        data = s.ConversationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        integration_id = values.pop("integration_id", None)
        integration = None
        if integration_id:
            integration = related_or_400(
                hooks.channel_for.ask,
                "integration_id",
                user=request.user,
                integration_id=integration_id,
            )
        template = values.pop("template", None)
        first_message = _template_draft(integration, template) if template else None
        opened = services.conversation_create(
            by=request.user, integration=integration, first_message=first_message, **values
        )
        # An existing conversation with this customer on the channel is reused: 200, not 201.
        code = status.HTTP_201_CREATED if opened.created else status.HTTP_200_OK
        return self._respond(opened.conversation, code)

    def retrieve(self, request, pk=None):
        return self._respond(self._conversation())

    @extend_schema(request=s.ConversationUpdateSerializer, responses={200: ConversationSerializer})
    def update(self, request, pk=None, partial=False):
        data = s.ConversationUpdateSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        contact = {
            key.removeprefix("contact_"): values.pop(key)
            for key in ("contact_name", "contact_phone", "contact_email")
            if key in values
        }
        # null priority / tags: give them back to the AI's analysis.
        resets = {
            f"reset_{key}": True
            for key in ("priority", "tags")
            if key in values and values[key] is None
        }
        agent_id = values.pop("assigned_agent_id", _ABSENT)
        assistant_id = values.pop("assigned_assistant_id", _ABSENT)
        with transaction.atomic():
            conversation = self._conversation(for_update=True)  # 404 before any body check
            conversation = services.conversation_update(
                by=request.user,
                conversation=conversation,
                contact=contact,
                **values,
                **resets,
                **self._assignment_targets(agent_id, assistant_id, prefix="assigned_"),
            )
        return self._respond(conversation)

    def _assignment_targets(self, agent_id, assistant_id, *, prefix: str = "") -> dict:
        """Body ids → the agent / assistant to assign (None unassigns); unknown ids are 400."""
        targets = {}
        if agent_id is not _ABSENT:
            targets["agent"] = agent_id and related_or_400(
                user_get_for, f"{prefix}agent_id", actor=self.request.user, user_id=agent_id
            )
        if assistant_id is not _ABSENT:
            targets["assistant"] = assistant_id and related_or_400(
                hooks.assistant_for.ask,
                f"{prefix}assistant_id",
                user=self.request.user,
                assistant_id=assistant_id,
            )
        return targets

    @extend_schema(request=s.ConversationUpdateSerializer, responses={200: ConversationSerializer})
    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        services.conversation_delete(by=request.user, conversation=self._conversation())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.StatusSerializer, responses={200: ConversationSerializer})
    @action(detail=True, methods=["put", "post", "patch"])
    def status(self, request, pk=None):
        data = s.StatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            conversation = services.conversation_set_status(
                by=request.user,
                conversation=self._conversation(for_update=True),
                status=data.validated_data["status"],
            )
        return self._respond(conversation)

    @extend_schema(request=s.AssignSerializer, responses={200: ConversationSerializer})
    @action(detail=True, methods=["post", "put"])
    def assign(self, request, pk=None):
        data = s.AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = self._conversation()
        targets = self._assignment_targets(
            data.validated_data.get("agent_id", _ABSENT),
            data.validated_data.get("assistant_id", _ABSENT),
        )
        conversation = services.conversation_assign(
            by=request.user, conversation=conversation, **targets
        )
        return self._respond(conversation)

    @extend_schema(request=None, responses={200: ConversationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        conversation = services.conversation_mark_read(
            by=request.user, conversation=self._conversation()
        )
        return self._respond(conversation)

    @extend_schema(
        methods=["GET"],
        responses={200: MessageSerializer(many=True)},
        parameters=[OpenApiParameter("limit", int), OpenApiParameter("cursor", str)],
    )
    @extend_schema(
        methods=["POST"], request=s.MessageCreateSerializer, responses={201: MessageSerializer}
    )
    @action(detail=True, methods=["get", "post"], pagination_class=MessagePagination)
    def messages(self, request, pk=None):
        if request.method == "POST":
            return self._send_message(request)
        queryset = selectors.message_list_for(user=request.user, conversation_id=pk)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    @extend_schema(request=None, responses={200: MessageSerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path=r"messages/(?P<message_id>[0-9a-fA-F-]{32,36})/retry",
    )
    def retry_message(self, request, pk=None, message_id=None):
        """Send a failed message again (the agent saw the reason and decided to retry)."""
        conversation = self._conversation()
        message = selectors.message_in_conversation(
            conversation=conversation, message_id=message_id
        )
        if message is None:
            raise NotFoundError("Message not found.")
        message = services.message_retry(by=request.user, message=message)
        return Response(MessageSerializer(message).data)

    def _send_message(self, request) -> Response:
        data = s.MessageCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = self._conversation()
        values = dict(data.validated_data)
        if values.pop("private"):
            note = services.note_add(
                by=request.user, conversation=conversation, content=values["content"]
            )
            return Response(MessageSerializer(note).data, status=status.HTTP_201_CREATED)
        reply_to_id = values.pop("reply_to", None)
        reply_to = None
        if reply_to_id:
            reply_to = selectors.message_in_conversation(
                conversation=conversation, message_id=reply_to_id
            )
            if reply_to is None:
                raise InvalidInput(
                    "Invalid input.", details={"reply_to": ["Not in this conversation."]}
                )
        message = services.message_send_agent(
            by=request.user,
            conversation=conversation,
            draft=_draft(conversation.integration, values, reply_to),
        )
        message.refresh_from_db()
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.MessageTemplateChoiceSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)  # a whole list, never paged
    def templates(self, request, pk=None):
        """The approved templates an agent may send in this conversation (WhatsApp)."""
        conversation = self._conversation()
        if conversation.integration_id is None:
            return Response([])
        return Response(hooks.template_choices.ask(integration=conversation.integration))


def _template_draft(integration, template: dict, reply_to=None) -> services.OutboundDraft:
    """An approved template filled in by the channel's provider (the ``message_template``
    port): what the thread shows and what the send needs."""
    if integration is None:
        raise InvalidInput(
            "Invalid input.", details={"template": ["Templates are sent on a channel."]}
        )
    rendered = hooks.message_template.ask(
        integration=integration,
        name=template["name"],
        language=template["language"],
        parameters={key: template.get(key, []) for key in ("header", "body")},
    )
    return services.OutboundDraft(
        type=Message.Type.TEMPLATE,
        content=rendered.content,
        metadata=rendered.metadata,
        reply_to=reply_to,
    )


def _draft(integration, values: dict, reply_to) -> services.OutboundDraft:
    """The message an agent asked for: a template, a file with its caption, or text."""
    upload = values.pop("file", None)
    template = values.pop("template", None)
    if template is not None:
        return _template_draft(integration, template, reply_to)
    if upload is None:
        return services.OutboundDraft(reply_to=reply_to, **values)
    file = services.Upload(
        content=upload,
        file_name=upload.name or "",
        declared=upload.content_type or "",
        size=upload.size,
        kind=attachment_kind_for(values.get("type", "")),
    )
    return services.OutboundDraft(content=values.get("content", ""), reply_to=reply_to, upload=file)


class TagViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Workspace tags: members read, admins write."""

    permission_classes = [IsWorkspaceAdminOrReadOnly]
    serializer_class = TagSerializer
    lookup_value_regex = UUID_PATTERN
    queryset = Tag.objects.none()
    pagination_class = None

    def get_queryset(self):
        return selectors.tag_list_for(user=self.request.user)

    def get_object(self):
        return selectors.tag_get_for(user=self.request.user, tag_id=self.kwargs["pk"])

    @extend_schema(request=s.TagWriteSerializer, responses={201: TagSerializer})
    def create(self, request):
        data = s.TagWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tag = services.tag_create(by=request.user, **data.validated_data)
        return Response(TagSerializer(tag).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.TagWriteSerializer, responses={200: TagSerializer})
    def update(self, request, pk=None, partial=False):
        data = s.TagWriteSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        tag = services.tag_update(tag=self.get_object(), **data.validated_data)
        return Response(TagSerializer(tag).data)

    @extend_schema(request=s.TagWriteSerializer, responses={200: TagSerializer})
    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def perform_destroy(self, instance):
        services.tag_delete(tag=instance)


class ContactViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsWorkspaceMember]
    serializer_class = ContactSerializer
    lookup_value_regex = UUID_PATTERN
    queryset = Contact.objects.none()

    def get_queryset(self):
        return selectors.contact_list_for(
            user=self.request.user, search=self.request.query_params.get("search")
        )

    def get_object(self):
        return selectors.contact_get_for(user=self.request.user, contact_id=self.kwargs["pk"])

    @extend_schema(request=s.ContactUpdateSerializer, responses={200: ContactSerializer})
    def update(self, request, pk=None, partial=False):
        data = s.ContactUpdateSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        contact = services.contact_edit(contact=self.get_object(), data=dict(data.validated_data))
        return Response(ContactSerializer(contact).data)

    @extend_schema(request=s.ContactUpdateSerializer, responses={200: ContactSerializer})
    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)


class EventListView(APIView):
    """Catch-up feed: every event the caller would have received live after ``after``."""

    permission_classes = [IsWorkspaceMember]

    @extend_schema(parameters=[s.EventQuerySerializer], responses={200: s.EventPageSerializer})
    def get(self, request):
        query = s.EventQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        after, limit = query.validated_data["after"], query.validated_data["limit"]
        events = list(selectors.event_list_for(user=request.user, after=after)[: limit + 1])
        page = events[:limit]
        return Response(
            {
                "results": [event_wire(event) for event in page],
                "last_id": page[-1].id if page else after,
                "has_more": len(events) > limit,
            }
        )


class _AnyAccept(BaseContentNegotiation):
    """Files are asked for by <img>, <audio> and downloads with whatever Accept header they
    like; errors still answer in JSON."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AttachmentFileView(APIView):
    """The file itself, for members who see its conversation (another workspace: 404)."""

    permission_classes = [IsWorkspaceMember]
    content_negotiation_class = _AnyAccept

    @extend_schema(
        # The file's own type (sniffed from its bytes when it was stored).
        responses={(200, "*/*"): OpenApiTypes.BINARY},
        parameters=[OpenApiParameter("download", bool)],
    )
    def get(self, request, attachment_id):
        attachment = selectors.attachment_get_for(user=request.user, attachment_id=attachment_id)
        if not attachment.is_ready:
            raise NotFoundError("The file is not available.", code="file_not_available")
        return file_response(attachment, download=request.query_params.get("download") == "1")


class AttachmentRetryView(APIView):
    """Download a file again after the download failed (the message shows why)."""

    permission_classes = [IsWorkspaceMember]

    @extend_schema(request=None, responses={200: AttachmentSerializer})
    def post(self, request, attachment_id):
        attachment = selectors.attachment_get_for(user=request.user, attachment_id=attachment_id)
        attachment = services.attachment_retry_download(by=request.user, attachment=attachment)
        return Response(AttachmentSerializer(attachment).data)
