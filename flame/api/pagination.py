"""Cursor pagination shared by every list endpoint (``?limit=``, next/previous)."""

from __future__ import annotations

from datetime import UTC

from django.conf import settings
from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

# DRF's integer parsing: ASCII or Unicode decimal digits, at most 1000 characters. Bare int()
# accepts "²".isdigit() but fails on it, and fails on numbers over 4300 digits.
_LIMIT = serializers.IntegerField(min_value=1)


class CreatedCursorPagination(CursorPagination):
    """Newest first by creation time; ``id`` breaks ties so the order is total and stable.

    Every ordering used with it (here and in subclasses) starts with a timestamp, which is
    what a cursor's position holds.
    """

    ordering = ("-created_at", "-id")
    page_size_query_param = "limit"
    max_page_size = settings.API_MAX_PAGE_SIZE

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = _LIMIT.run_validation(raw)
        except ValidationError as exc:
            # DRF would silently fall back to the default; a typo deserves a clear answer.
            raise ValidationError({"limit": ["A positive whole number."]}) from exc
        return min(size, self.max_page_size)

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        position = cursor.position if cursor is not None else None
        if position is not None and not _is_moment(position):
            raise NotFound(self.invalid_cursor_message)
        return cursor


def _is_moment(position: str) -> bool:
    """Whether a (client-supplied) position is an aware timestamp the database can compare.

    Cursors are only base64: a forged "9999-12-31 23:59:59-14:00" would overflow on its way
    to UTC, and a naive one would be read in the server's timezone.
    """
    try:
        moment = parse_datetime(position)
        if moment is None or moment.tzinfo is None:
            return False
        moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return False
    return True
