"""Request body parsers: DRF's, refusing text the database cannot store.

DRF's CharField already refuses NUL characters and lone surrogates, but free-form values
(``DictField``, ``JSONField``, dictionary keys, list items) reach the database unchecked and
PostgreSQL or psycopg refuse them there, as a server error. Checking the parsed body once, here,
covers every endpoint and every field, present and future: a 400 naming the field, before any
view or service runs.
"""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.settings import api_settings

from flame.text import strings_in, unstorable_reason


def _fields(data: Any) -> list[tuple[Any, Any]]:
    if isinstance(data, QueryDict):
        return list(data.lists())
    if isinstance(data, dict):
        return list(data.items())
    return [(None, data)]


def refuse_unstorable(data: Any) -> None:
    """Raise a ValidationError naming the first top-level field holding unstorable text."""
    for field, value in _fields(data):
        if isinstance(field, str) and (reason := unstorable_reason(field)):
            # The field's own name is unprintable: report it on the body as a whole.
            raise ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [reason]})
        for text in strings_in(value):
            if reason := unstorable_reason(text):
                raise ValidationError({field or api_settings.NON_FIELD_ERRORS_KEY: [reason]})


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            # "[[[[…" a million deep fits in the body limit; the decoder gives up on the depth.
            raise ParseError("JSON parse error - nested too deeply.") from exc
        refuse_unstorable(data)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        refuse_unstorable(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        refuse_unstorable(parsed.data)
        return parsed
