"""Cursor pagination shared by every list endpoint (DESIGN §7: ``?limit=``, next/previous)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination


class CreatedCursorPagination(CursorPagination):
    """Newest first by creation time; ``id`` breaks ties so the order is total and stable."""

    ordering = ("-created_at", "-id")
    page_size_query_param = "limit"
    max_page_size = settings.API_MAX_PAGE_SIZE

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or int(raw) < 1:
            # DRF would silently fall back to the default; a typo deserves a clear answer.
            raise ValidationError({"limit": ["A positive whole number."]})
        return min(int(raw), self.max_page_size)
