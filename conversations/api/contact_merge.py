"""Duplicate contacts: the suggestions, merging two contacts, the recent merges and their
undo, and dismissing a suggestion. Members (admins and agents) act on the contacts they see;
a merge is undone by an admin or by the member who made it (docs/contacts.md)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import IsWorkspaceMember
from conversations import selectors, services
from conversations.api import serializers as s
from conversations.serializers import ContactMergeSerializer, DuplicatePairSerializer
from flame.api.lookups import related_or_400
from flame.api.pagination import CreatedCursorPagination


class DuplicateListView(APIView):
    """Pairs of contacts that share a phone number or an e-mail address, newest first."""

    permission_classes = [IsWorkspaceMember]

    @extend_schema(
        parameters=[s.DuplicateQuerySerializer],
        responses={200: DuplicatePairSerializer(many=True)},
    )
    def get(self, request):
        query = s.DuplicateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        pairs = selectors.contact_duplicates_for(
            user=request.user,
            contact_id=query.validated_data.get("contact"),
            limit=query.validated_data["limit"],
        )
        return Response(DuplicatePairSerializer(pairs, many=True).data)


class DuplicateDismissView(APIView):
    """The two contacts are not the same person: they are never suggested together again."""

    permission_classes = [IsWorkspaceMember]

    @extend_schema(request=s.DuplicateDismissSerializer, responses={204: None})
    def post(self, request):
        data = s.DuplicateDismissSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        first, second = (
            related_or_400(
                selectors.contact_get_for, "contact_ids", user=request.user, contact_id=pk
            )
            for pk in data.validated_data["contact_ids"]
        )
        services.contact_duplicate_dismiss(by=request.user, first=first, second=second)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContactMergeView(APIView):
    """Fold the contact ``other_id`` into this one (this one is kept)."""

    permission_classes = [IsWorkspaceMember]

    @extend_schema(request=s.ContactMergeCreateSerializer, responses={201: ContactMergeSerializer})
    def post(self, request, pk):
        data = s.ContactMergeCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        primary = selectors.contact_get_for(user=request.user, contact_id=pk)
        secondary = related_or_400(
            selectors.contact_get_for,
            "other_id",
            user=request.user,
            contact_id=data.validated_data["other_id"],
        )
        merge = services.contact_merge(by=request.user, primary=primary, secondary=secondary)
        merge = selectors.contact_merge_get_for(user=request.user, merge_id=merge.pk)
        return Response(ContactMergeSerializer(merge).data, status=status.HTTP_201_CREATED)


class ContactMergeListView(APIView):
    """Recent merges the caller may undo (admins: all; agents: their own), newest first."""

    permission_classes = [IsWorkspaceMember]
    pagination_class = CreatedCursorPagination

    @extend_schema(responses={200: ContactMergeSerializer(many=True)})
    def get(self, request):
        paginator = self.pagination_class()
        merges = selectors.contact_merge_list_for(user=request.user)
        page = paginator.paginate_queryset(merges, request, view=self)
        return paginator.get_paginated_response(ContactMergeSerializer(page, many=True).data)


class ContactMergeUndoView(APIView):
    """Undo a merge before its ``undo_until``; 409 after it, or when already undone."""

    permission_classes = [IsWorkspaceMember]

    @extend_schema(request=None, responses={200: ContactMergeSerializer})
    def post(self, request, pk):
        merge = selectors.contact_merge_get_for(user=request.user, merge_id=pk)
        services.contact_merge_undo(by=request.user, merge=merge)
        merge = selectors.contact_merge_get_for(user=request.user, merge_id=pk)
        return Response(ContactMergeSerializer(merge).data)
