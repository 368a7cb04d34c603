"""Cursor pagination shared by every list endpoint (DESIGN §7: ``?limit=``, next/previous)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.pagination import CursorPagination


class CreatedCursorPagination(CursorPagination):
    """Newest first by creation time; ``id`` breaks ties so the order is total and stable."""

    ordering = ("-created_at", "-id")
    page_size_query_param = "limit"
    max_page_size = settings.API_MAX_PAGE_SIZE
