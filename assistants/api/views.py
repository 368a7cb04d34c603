"""Assistants, their schedules and knowledge, training, the playground and the AI endpoints.

Thin interfaces: every read starts from ``assistants.selectors`` (another workspace's
assistant is a 404), every write is one service call. Members read; admins write.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from accounts.api.permissions import (
    IsWorkspaceAdmin,
    IsWorkspaceAdminOrReadOnly,
    IsWorkspaceMember,
)
from assistants import conf, llm, playground, selectors, services, suggestions
from assistants.api import serializers as s
from assistants.models import Assistant, PlaygroundConversation
from assistants.schedule import workspace_zone
from conversations.selectors import conversation_get_for
from flame.api.pagination import CreatedCursorPagination
from flame.exceptions import InvalidInput, NotFoundError
from flame.streaming import stream_body

UUID_PATTERN = "[0-9a-fA-F-]{32,36}"
SCHEDULE_PATH = rf"schedules/(?P<schedule_id>{UUID_PATTERN})"
KNOWLEDGE_PATH = rf"knowledge/(?P<document_id>{UUID_PATTERN})"


class KnowledgePagination(CreatedCursorPagination):
    ordering = ("created_at", "id")
    page_size = 50


def _detail(request, *, output, write, read, update, delete) -> Response:
    """GET / PUT / PATCH / DELETE of one child row (schedule, document) of an assistant."""
    if request.method == "GET":
        return Response(output(read()).data)
    if request.method == "DELETE":
        delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
    data = write(data=request.data, partial=request.method == "PATCH")
    data.is_valid(raise_exception=True)
    return Response(output(update(data.validated_data)).data)


class AssistantViewSet(viewsets.GenericViewSet):
    permission_classes = [IsWorkspaceAdminOrReadOnly]
    serializer_class = s.AssistantSerializer
    lookup_value_regex = UUID_PATTERN
    queryset = Assistant.objects.none()  # schema only; requests use the selectors

    def get_queryset(self):
        return selectors.assistant_list_for(user=self.request.user)

    def _assistant(self) -> Assistant:
        return selectors.assistant_get_for(user=self.request.user, assistant_id=self.kwargs["pk"])

    def _respond(self, assistant: Assistant, code: int = status.HTTP_200_OK) -> Response:
        # Reload through the selector: schedules and knowledge_count come with it.
        fresh = selectors.assistant_get_for(user=self.request.user, assistant_id=assistant.pk)
        return Response(s.AssistantSerializer(fresh).data, status=code)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.AssistantSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(s.AssistantSerializer(self._assistant()).data)

    @extend_schema(request=s.AssistantSerializer, responses={201: s.AssistantSerializer})
    def create(self, request):
        data = s.AssistantSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assistant = services.assistant_create(by=request.user, data=data.validated_data)
        return self._respond(assistant, status.HTTP_201_CREATED)

    @extend_schema(request=s.AssistantSerializer, responses={200: s.AssistantSerializer})
    def update(self, request, pk=None, partial=False):
        assistant = self._assistant()
        data = s.AssistantSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        assistant = services.assistant_update(assistant=assistant, data=data.validated_data)
        return self._respond(assistant)

    @extend_schema(request=s.AssistantSerializer, responses={200: s.AssistantSerializer})
    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        services.assistant_delete(assistant=self._assistant())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={202: s.AssistantSerializer})
    @action(detail=True, methods=["post"])
    def train(self, request, pk=None):
        """Rebuild the retrieval index from the knowledge (``training`` until done)."""
        assistant = services.assistant_train(assistant=self._assistant())
        return self._respond(assistant, status.HTTP_202_ACCEPTED)

    @extend_schema(request=s.AssistantTestSerializer, responses={200: s.PlaygroundAnswerSerializer})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Playground: what the assistant would answer to ``message`` (nothing is sent)."""
        assistant = self._assistant()
        data = s.AssistantTestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answer = playground.assistant_test(assistant=assistant, **data.validated_data)
        return Response(s.PlaygroundAnswerSerializer(answer.as_dict()).data)

    # --- schedules ---------------------------------------------------------------------------

    @extend_schema(methods=["GET"], responses={200: s.ScheduleSerializer(many=True)})
    @extend_schema(
        methods=["POST"], request=s.ScheduleWriteSerializer, responses={201: s.ScheduleSerializer}
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def schedules(self, request, pk=None):
        assistant = self._assistant()
        if request.method == "GET":
            schedules = selectors.schedule_list(assistant=assistant)
            return Response(s.ScheduleSerializer(schedules, many=True).data)
        data = s.ScheduleWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        schedule = services.schedule_create(assistant=assistant, data=data.validated_data)
        return Response(s.ScheduleSerializer(schedule).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses={200: s.ScheduleSerializer})
    @extend_schema(
        methods=["PUT", "PATCH"],
        request=s.ScheduleWriteSerializer,
        responses={200: s.ScheduleSerializer},
    )
    @extend_schema(methods=["DELETE"], responses={204: None})
    @action(
        detail=True,
        methods=["get", "put", "patch", "delete"],
        url_path=SCHEDULE_PATH,
        url_name="schedule-detail",
    )
    def schedule(self, request, pk=None, schedule_id=None):
        schedule = selectors.schedule_get(assistant=self._assistant(), schedule_id=schedule_id)
        return _detail(
            request,
            output=s.ScheduleSerializer,
            write=s.ScheduleWriteSerializer,
            read=lambda: schedule,
            update=lambda data: services.schedule_update(schedule=schedule, data=data),
            delete=lambda: services.schedule_delete(schedule=schedule),
        )

    # --- knowledge ---------------------------------------------------------------------------

    @extend_schema(
        methods=["GET"],
        responses={200: s.KnowledgeSerializer(many=True)},
        parameters=[OpenApiParameter("limit", int), OpenApiParameter("cursor", str)],
    )
    @extend_schema(
        methods=["POST"], request=s.KnowledgeWriteSerializer, responses={201: s.KnowledgeSerializer}
    )
    @action(detail=True, methods=["get", "post"], pagination_class=KnowledgePagination)
    def knowledge(self, request, pk=None):
        assistant = self._assistant()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.knowledge_list(assistant=assistant))
            return self.get_paginated_response(s.KnowledgeSerializer(page, many=True).data)
        data = s.KnowledgeWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = services.knowledge_create(assistant=assistant, **data.validated_data)
        return Response(s.KnowledgeSerializer(document).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses={200: s.KnowledgeSerializer})
    @extend_schema(
        methods=["PUT", "PATCH"],
        request=s.KnowledgeWriteSerializer,
        responses={200: s.KnowledgeSerializer},
    )
    @extend_schema(methods=["DELETE"], responses={204: None})
    @action(
        detail=True,
        methods=["get", "put", "patch", "delete"],
        url_path=KNOWLEDGE_PATH,
        url_name="knowledge-detail",
    )
    def knowledge_document(self, request, pk=None, document_id=None):
        document = selectors.knowledge_get(assistant=self._assistant(), document_id=document_id)
        return _detail(
            request,
            output=s.KnowledgeSerializer,
            write=s.KnowledgeWriteSerializer,
            read=lambda: document,
            update=lambda data: services.knowledge_update(document=document, data=data),
            delete=lambda: services.knowledge_delete(document=document),
        )


# --- /api/ai/* -----------------------------------------------------------------------------------


class AIUsageView(APIView):
    """AI calls of the workspace per local day, assistant and purpose (admins)."""

    permission_classes = [IsWorkspaceAdmin]

    @extend_schema(parameters=[s.UsageQuerySerializer], responses={200: s.UsageReportSerializer})
    def get(self, request):
        workspace = request.user.workspace
        query = s.UsageQuerySerializer(
            data=request.query_params, context={"zone": workspace_zone(workspace.timezone)}
        )
        query.is_valid(raise_exception=True)
        report = selectors.ai_usage_report(
            workspace=workspace, window=selectors.UsageWindow(**query.validated_data)
        )
        return Response(s.UsageReportSerializer(report).data)


class AIModelsView(APIView):
    permission_classes = [IsWorkspaceMember]

    @extend_schema(responses={200: s.ModelListSerializer})
    def get(self, request):
        body = {
            "provider": llm.provider_name(),
            "default": conf.default_model(),
            "models": selectors.ai_models(workspace=request.user.workspace),
        }
        return Response(s.ModelListSerializer(body).data)


class AIStatusView(APIView):
    """Which provider answers, and the workspace's quota for today."""

    permission_classes = [IsWorkspaceMember]

    @extend_schema(responses={200: s.AIStatusSerializer})
    def get(self, request):
        workspace = request.user.workspace
        body = {
            "provider": llm.provider_name(),
            "model": conf.default_model(),
            "base_url_configured": bool(conf.openai_base_url()),
            "timezone": workspace.timezone,
            **selectors.ai_quota_status(workspace=workspace, at=timezone.now()),
        }
        return Response(s.AIStatusSerializer(body).data)


# How many earlier messages of a playground conversation the model reads (the chat's limit).
PLAYGROUND_HISTORY = 20


def _sse(event: str, data) -> str:
    return f"event: {event}\ndata: {json.dumps(data, cls=JSONEncoder)}\n\n"


def _chat_events(*, by, conversation, assistant, message: str, pieces: Iterator) -> Iterator[str]:
    """The answer as server-sent events; the exchange is kept once the answer is whole."""
    try:
        for piece in pieces:
            if not isinstance(piece, playground.PlaygroundAnswer):
                yield _sse("delta", {"content": piece})
                continue
            kept = services.playground_exchange_record(
                by=by,
                conversation=conversation,
                assistant=assistant,
                message=message,
                reply=piece.reply,
                source=piece.source,
            )
            answer = s.AIChatAnswerSerializer({**piece.as_dict(), "conversation_id": kept.pk})
            yield _sse("done", answer.data)
    except llm.LLMError as exc:
        # The 200 has gone out: the failure is the stream's last event.
        error = {"code": "ai_unavailable", "message": "The AI provider stopped answering."}
        yield _sse("error", {**error, "details": {"code": exc.code}})


class AIChatView(APIView):
    """Playground chat: with ``assistant_id`` as that assistant would answer, else the model.

    Every exchange is kept in the member's playground conversations (``conversation_id`` goes
    on with one). With ``"stream": true`` the answer comes as server-sent events; quotas and
    usage are counted like any call, and a quota used up is still a 429 before any event.
    """

    permission_classes = [IsWorkspaceAdmin]

    @extend_schema(
        request=s.AIChatSerializer,
        responses={
            (200, "application/json"): s.AIChatAnswerSerializer,
            (200, "text/event-stream"): OpenApiTypes.STR,
        },
    )
    def post(self, request):
        data = s.AIChatSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        stream = values.pop("stream")
        conversation = self._conversation(values.pop("conversation_id", None))
        assistant = self._assistant(values.pop("assistant_id", None), conversation)
        if conversation is not None:
            values["history"] = selectors.playground_history(
                conversation=conversation, limit=PLAYGROUND_HISTORY
            )
        if stream:
            return self._streamed(request, conversation, assistant, values)
        if assistant is not None:
            answer = playground.assistant_test(assistant=assistant, **values)
        else:
            answer = playground.ai_chat(by=request.user, **values)
        kept = services.playground_exchange_record(
            by=request.user,
            conversation=conversation,
            assistant=assistant,
            message=values["message"],
            reply=answer.reply,
            source=answer.source,
        )
        body = {**answer.as_dict(), "conversation_id": kept.pk}
        return Response(s.AIChatAnswerSerializer(body).data)

    def _streamed(self, request, conversation, assistant, values) -> StreamingHttpResponse:
        if assistant is not None:
            pieces = playground.assistant_test_stream(assistant=assistant, **values)
        else:
            pieces = playground.ai_chat_stream(by=request.user, **values)
        events = _chat_events(
            by=request.user,
            conversation=conversation,
            assistant=assistant,
            message=values["message"],
            pieces=pieces,
        )
        response = StreamingHttpResponse(
            stream_body(request._request, events, what="A streamed AI answer"),
            content_type="text/event-stream",
        )
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
        return response

    def _conversation(self, conversation_id) -> PlaygroundConversation | None:
        if not conversation_id:
            return None
        try:
            return selectors.playground_conversation_get_for(
                user=self.request.user, conversation_id=conversation_id
            )
        except NotFoundError as exc:
            raise InvalidInput(
                "Invalid input.", details={"conversation_id": ["Not found."]}
            ) from exc

    def _assistant(self, assistant_id, conversation) -> Assistant | None:
        if conversation is not None:
            if assistant_id and assistant_id != conversation.assistant_id:
                raise InvalidInput(
                    "Invalid input.",
                    details={"assistant_id": ["Not the assistant of this conversation."]},
                )
            return conversation.assistant
        if not assistant_id:
            return None
        try:
            return selectors.assistant_get_for(user=self.request.user, assistant_id=assistant_id)
        except NotFoundError as exc:
            raise InvalidInput("Invalid input.", details={"assistant_id": ["Not found."]}) from exc


class PlaygroundPagination(CreatedCursorPagination):
    ordering = ("-updated_at", "-id")


class PlaygroundConversationViewSet(viewsets.ReadOnlyModelViewSet):
    """The member's own playground conversations (``GET /api/ai/conversations[/:id]``)."""

    permission_classes = [IsWorkspaceMember]
    serializer_class = s.PlaygroundConversationSerializer
    pagination_class = PlaygroundPagination
    lookup_value_regex = UUID_PATTERN
    queryset = PlaygroundConversation.objects.none()  # schema only; requests use the selectors

    def get_queryset(self):
        return selectors.playground_conversation_list_for(user=self.request.user)

    @extend_schema(responses={200: s.PlaygroundConversationDetailSerializer})
    def retrieve(self, request, *args, **kwargs):
        conversation = selectors.playground_conversation_get_for(
            user=request.user, conversation_id=kwargs["pk"]
        )
        messages = selectors.playground_messages(conversation=conversation)
        detail = s.PlaygroundConversationDetailSerializer(
            conversation, context={"messages": messages}
        )
        return Response(detail.data)


class ReplySuggestionView(APIView):
    """A draft of the next reply for the agent, from the conversation and its assistant's
    knowledge; it goes to the composer, never to the customer."""

    permission_classes = [IsWorkspaceMember]

    @extend_schema(request=None, responses={200: s.ReplySuggestionSerializer})
    def post(self, request, pk):
        conversation = conversation_get_for(user=request.user, conversation_id=pk)
        suggestion = suggestions.reply_suggest(conversation=conversation)
        return Response(s.ReplySuggestionSerializer(suggestion.as_dict()).data)
