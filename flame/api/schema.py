"""What the OpenAPI schema needs beyond what drf-spectacular infers from views and serializers.

Blank strings: a field that may be "" (``allow_blank``, or a ``blank=True`` model field shown
read-only) is documented as its format *or* the empty string. drf-spectacular documents only
the format ("uri", "email", an enum), so every empty avatar or unanalysed priority looked like
a broken response to a client validating against the schema.

Every operation can answer with the API's one error shape (``flame/api/errors.py``): 400 for
input it refuses, 401 / 403 for credentials and roles, 404 for an id outside the caller's
workspace, 429 when rate limited, and writes 409 (a rule such as "the last admin") and 413 (a
body over the limit). drf-spectacular documents only the success response, so a generated
client would treat each of these as unexpected; this hook lists them once, for every operation.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

ERROR_COMPONENT = "Error"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "Stable, machine-readable reason."},
                "message": {"type": "string", "description": "For people, in English."},
                "details": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "Per-field messages for 400s; other context otherwise.",
                },
            },
        }
    },
}

ERROR_RESPONSES = {
    "400": "Invalid input: the body or query was refused; nothing changed.",
    "401": "Not authenticated, or the credentials are not valid.",
    "403": "Authenticated, but this role may not do this.",
    "404": "Not found, or it belongs to another workspace.",
    "409": "Refused by a rule about the current state (for example the last admin).",
    "413": "The request body is too large.",
    "429": "Rate limited; retry after the Retry-After header's seconds.",
}
WRITE_ONLY_ERRORS = {"409", "413"}
WRITE_METHODS = {"post", "put", "patch", "delete"}


def _error_statuses(method: str) -> list[str]:
    if method in WRITE_METHODS:
        return list(ERROR_RESPONSES)
    return [status for status in ERROR_RESPONSES if status not in WRITE_ONLY_ERRORS]


def _error_response(description: str) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


# Answered by the web server (gunicorn, nginx) before the application sees the request, in its
# own format: documented without a body.
URI_TOO_LONG = {"description": "The address (path and query) is too long for the web server."}


def add_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in _error_statuses(method):
                responses.setdefault(status, _error_response(ERROR_RESPONSES[status]))
            responses.setdefault("414", URI_TOO_LONG)
    return result


# DRF renders these as "HH:MM" (``format="%H:%M"``), which OpenAPI's "time" format (RFC 3339
# partial-time, seconds included) does not admit.
HOUR_MINUTE = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "09:00"}
STRING_TYPES = (serializers.CharField, serializers.ChoiceField)


def _model_field_allows_blank(field) -> bool:
    model = getattr(getattr(getattr(field, "parent", None), "Meta", None), "model", None)
    if model is None or not isinstance(field.source, str) or "." in field.source:
        return False
    try:
        return bool(model._meta.get_field(field.source).blank)
    except FieldDoesNotExist:
        return False


def _may_be_blank(field) -> bool:
    if not isinstance(field, STRING_TYPES) or isinstance(field, serializers.MultipleChoiceField):
        return False
    return bool(getattr(field, "allow_blank", False)) or (
        field.read_only and _model_field_allows_blank(field)
    )


def _or_blank(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema``, or "" — keeping readOnly/description beside the alternatives."""
    constrained = "format" in schema or "enum" in schema or "allOf" in schema or "$ref" in schema
    if not constrained:
        return schema
    outer_keys = ("readOnly", "writeOnly", "description", "title", "default", "nullable")
    outer = {key: schema[key] for key in outer_keys if key in schema}
    inner = {key: value for key, value in schema.items() if key not in outer_keys}
    return {**outer, "anyOf": [inner, {"type": "string", "enum": [""]}]}


class FlameAutoSchema(AutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if isinstance(field, serializers.TimeField) and getattr(field, "format", None) == "%H:%M":
            return {**HOUR_MINUTE, **self._get_serializer_field_meta(field, direction)}
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if schema is not None and _may_be_blank(field):
            schema = _or_blank(schema)
        return schema
