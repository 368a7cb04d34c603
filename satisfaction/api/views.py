"""A conversation's satisfaction ratings: the inbox's panel reads them, agents record one."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import IsWorkspaceMember
from conversations.selectors import conversation_get_for
from satisfaction import selectors, services
from satisfaction.api.serializers import RatingCreateSerializer, RatingSerializer


class ConversationRatingView(APIView):
    """GET: the conversation's satisfaction ratings, newest first. POST: record the customer's
    rating (for example one given by phone); it answers the pending survey, if any."""

    permission_classes = [IsWorkspaceMember]

    def _conversation(self, request, pk):
        return conversation_get_for(user=request.user, conversation_id=pk)

    @extend_schema(
        responses={
            200: inline_serializer("RatingList", fields={"results": RatingSerializer(many=True)})
        }
    )
    def get(self, request, pk):
        ratings = selectors.ratings_for_conversation(conversation=self._conversation(request, pk))
        return Response({"results": RatingSerializer(ratings, many=True).data})

    @extend_schema(request=RatingCreateSerializer, responses={201: RatingSerializer})
    def post(self, request, pk):
        data = RatingCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rating = services.rating_record(
            by=request.user, conversation=self._conversation(request, pk), **data.validated_data
        )
        return Response(RatingSerializer(rating).data, status=status.HTTP_201_CREATED)
