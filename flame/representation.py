"""A serializer's ``to_representation``, with DRF's per-field generality taken out of the hot path.

Every ingested message builds a ``message:new`` payload: the message and its conversation as
the API shows them, 60 fields. DRF reads each field through ``fields.get_attribute``, which asks
for every step whether the object is a ``Mapping`` (an ABC check) and whether the value is a
simple callable (``inspect``), then wraps it all in exception handling: measured, that reading
was most of the payloads' cost, and the payloads a quarter of ingestion's CPU.

``representer(serializer)`` gives a function returning exactly what
``serializer.to_representation(instance)`` returns for a model instance. Each plain field is
read with ``getattr`` along its ``source``; whatever is not the plain case is handed to DRF's
own code for that field, so the output does not depend on the fast path:

- a field whose class reads its attribute its own way (related fields, ``PKOnlyObject``);
- a step that fails (a missing related object: DRF's default, ``None`` or skipped field) or that
  finds a callable (a method DRF calls, a related manager);
- nested serializers are represented the same way, recursively; lists go to DRF.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.fields import Field, SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.serializers import Serializer

Representer = Callable[[Any], dict]
# A field's name, how its attribute is read (or _SKIP) and how a value other than None is written.
Step = tuple[str, Callable[[Any], Any], Callable[[Any], Any]]
_SKIP = object()


def representer(serializer: Serializer) -> Representer:
    """``serializer.to_representation`` for one instance, built on the first call (the
    serializer's fields need the app registry, which a module-level caller may not have yet).
    ``serializer`` is used read-only, so one instance can be shared by every caller."""
    steps: list[Step] = []

    def represent(instance) -> dict:
        if not steps:
            # One assignment: two threads arriving first both build, and the list holds one set.
            steps[:] = _steps(serializer)
        out = {}
        for name, read, write in steps:
            value = read(instance)
            if value is _SKIP:
                continue
            out[name] = None if value is None else write(value)
        return out

    return represent


def _steps(serializer: Serializer) -> list[Step]:
    fields = serializer._readable_fields
    return [(str(field.field_name), _reader(field), _writer(field)) for field in fields]


def _reader(field: Field) -> Callable[[Any], Any]:
    if type(field).get_attribute is not Field.get_attribute:
        return lambda instance: _drf_read(field, instance)
    attrs = tuple(field.source_attrs)

    def read(instance):
        value = instance
        try:
            for attr in attrs:
                value = getattr(value, attr)
                if callable(value):
                    return _drf_read(field, instance)
        except Exception:  # noqa: BLE001 - DRF decides: a default, None, a skipped field or raising
            return _drf_read(field, instance)
        return value

    return read


def _drf_read(field: Field, instance) -> Any:
    """DRF's own reading of ``field``, with its None check (``Serializer.to_representation``)."""
    try:
        attribute = field.get_attribute(instance)
    except SkipField:
        return _SKIP
    check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
    return None if check_for_none is None else attribute


def _writer(field: Field) -> Callable[[Any], Any]:
    if isinstance(field, Serializer):  # a nested object; a ListSerializer (many=True) is not one
        return representer(field)
    return field.to_representation
