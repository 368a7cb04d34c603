"""Hostile input for tests: the values, the endpoints to throw them at (from the OpenAPI
schema, so a new endpoint is covered without editing a list) and the checks that a refusal
changed nothing.

NUL and lone surrogates must be refused by PostgreSQL-backed deployments *before* the database
sees them: SQLite stores NUL happily, so CI runs these tests on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote

from django.apps import apps
from django.db import connection
from django.urls import Resolver404, resolve
from drf_spectacular.generators import SchemaGenerator

NUL = "before\x00after"
LONE_SURROGATE = "before\ud800after"
LONG = "x" * 10_000
EDGE_DATES = ("0001-01-01", "9999-12-31")
UNICODE_DIGIT = "²"  # "²".isdigit() is True, int("²") raises
UNSTORABLE = (NUL, LONE_SURROGATE)
HOSTILE = (*UNSTORABLE, LONG, *EDGE_DATES, UNICODE_DIGIT)

# Paths drf-spectacular cannot spell from their regex, and the URL to use instead.
URL_OF_PATH = {"/api/auth//": "/api/auth/refresh"}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    properties: dict[str, dict]
    required: tuple[str, ...]
    query: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@cache
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolved(body_schema: dict) -> dict:
    for combined in ("allOf", "oneOf"):
        if combined in body_schema:
            return _resolved(body_schema[combined][0])
    ref = body_schema.get("$ref")
    if ref is None:
        return body_schema
    return schema()["components"]["schemas"][ref.rsplit("/", 1)[1]]


def _operation(method: str, path: str, spec: dict) -> Operation:
    content = spec.get("requestBody", {}).get("content", {})
    body = _resolved(content.get("application/json", {}).get("schema", {}))
    query = tuple(p["name"] for p in spec.get("parameters", []) if p["in"] == "query")
    required = tuple(body.get("required", ()))
    return Operation(method.upper(), path, body.get("properties", {}), required, query)


def operations() -> list[Operation]:
    found = []
    for path, item in schema()["paths"].items():
        for method, spec in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                found.append(_operation(method, path, spec))
    return found


def json_writes() -> list[Operation]:
    """Every operation that takes a JSON body."""
    return [op for op in operations() if op.properties]


def queries() -> list[Operation]:
    """Every GET that takes query parameters."""
    return [op for op in operations() if op.method == "GET" and op.query]


def url_for(operation: Operation, path_values: dict[str, str]) -> str:
    """The operation's URL with its path parameters filled; fails when the URL does not route
    (a test that only ever hit 404s would prove nothing)."""
    path = URL_OF_PATH.get(operation.path, operation.path)
    segments = path.strip("/").split("/")
    filled = []
    for index, segment in enumerate(segments):
        if segment.startswith("{"):
            name = segment.strip("{}")
            key = f"{segments[index - 1]}.{name}" if name == "id" else name
            segment = path_values[key]
        filled.append(segment)
    url = "/" + "/".join(filled)
    try:
        resolve(url)
    except Resolver404:
        raise AssertionError(f"{operation}: {url} does not route") from None
    return url


_PLAIN_STRINGS = {
    "email": "hostile@a.example",
    "date": "2026-01-15",
    "date-time": "2026-01-15T10:00:00Z",
    "time": "09:00",
    "uri": "https://example.com/hostile",
}


def _plain(property_schema: dict) -> Any:
    """An ordinary value for a property, or None when none can be made up (ids)."""
    resolved = _resolved(property_schema)
    if resolved.get("enum"):
        return next(value for value in resolved["enum"] if value)
    kind = resolved.get("type")
    if kind in ("integer", "number"):
        return resolved.get("minimum", 1)
    if kind == "boolean":
        return True
    if kind == "string" and resolved.get("format") != "uuid":
        return _PLAIN_STRINGS.get(resolved.get("format"), "plain")
    return None


def base_body(operation: Operation) -> dict:
    """The required fields with ordinary values, so a hostile value in one field reaches as
    far into the view and the service as it can."""
    plain = {name: _plain(operation.properties[name]) for name in operation.required}
    return {name: value for name, value in plain.items() if value is not None}


def values_for(property_schema: dict) -> Iterator[Any]:
    """Hostile values shaped for a body property: strings, list items, dictionary values and
    keys (a wrong type is hostile too, and always sent)."""
    kind = _resolved(property_schema).get("type")
    if kind == "object":
        yield from ({"key": value} for value in HOSTILE)
        yield from ({value: "value"} for value in UNSTORABLE)
    elif kind == "array":
        yield from ([value] for value in HOSTILE)
    else:
        yield from HOSTILE


def is_unstorable(value: Any) -> bool:
    return any(text in json.dumps(value) for text in ("\\u0000", "\\ud800"))


def json_body(value: Any) -> bytes:
    # ASCII escapes: "\ud800" as a client would send it (it has no UTF-8 encoding).
    return json.dumps(value).encode()


def query_string(name: str, value: str) -> str:
    """``name=value`` percent-encoded; a lone surrogate as the UTF-8-style bytes a client
    would send for it (urlencode refuses to encode it at all)."""
    encoded = value.encode("utf-8", "surrogatepass")
    return f"{quote(name)}={quote(encoded)}"


def row_counts() -> dict[str, int]:
    """Rows in every table, in one query."""
    models = apps.get_models(include_auto_created=True)
    quote = connection.ops.quote_name
    counts = ", ".join(f"(SELECT COUNT(*) FROM {quote(m._meta.db_table)})" for m in models)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}")
        return dict(zip([m._meta.label for m in models], cursor.fetchone(), strict=True))


def rows_of(objects) -> dict[str, dict]:
    """The stored values of ``objects`` (the rows a request names in its URL)."""
    return {
        f"{o._meta.label}:{o.pk}": type(o).objects.filter(pk=o.pk).values().first() for o in objects
    }


def assert_error_shape(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"]
    assert error["message"]
    return error
