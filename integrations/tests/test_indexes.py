"""The tables every message writes keep one index per purpose.

Each index costs every INSERT an entry, and every UPDATE that cannot be HOT one more; on these
tables that is several entries per customer message. A foreign key's own index is dropped where
a composite index already leads with the column, and each foreign key must still lead some index
(deleting or reassigning what it points to finds the rows through it).
"""

from __future__ import annotations

import pytest
from django.db import connection, models

from conversations.models import Conversation, Event, Message
from integrations.models import WebhookEvent

HOT = (Conversation, Message, Event, WebhookEvent)


def _leader(model, index: models.Index) -> str | None:
    """The column an unconditional index leads with (None: partial, or led by an expression)."""
    first = index.fields[0].lstrip("-") if index.fields else index.expressions[0]
    if index.condition is not None:
        return None
    if isinstance(first, models.F):
        first = first.name
    return model._meta.get_field(first).column if isinstance(first, str) else None


def _leading_columns(model) -> set[str]:
    """Columns some unconditional index of ``model``'s state leads with (the key included)."""
    meta = model._meta
    leading = {meta.pk.column}
    leading |= {field.column for field in meta.concrete_fields if field.db_index or field.unique}
    leading |= {_leader(model, index) for index in meta.indexes} - {None}
    for constraint in meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.condition is None:
            leading.add(meta.get_field(constraint.fields[0]).column)
    return leading


def _foreign_key_columns(model) -> set[str]:
    return {f.column for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey)}


def _composite_leaders(model) -> set[str]:
    """Columns an unconditional index of more than one column leads with."""
    return {
        _leader(model, index)
        for index in model._meta.indexes
        if len(index.fields or index.expressions) > 1
    } - {None}


@pytest.mark.parametrize("model", HOT, ids=lambda model: model.__name__)
def test_every_foreign_key_leads_an_index(model):
    foreign_keys = _foreign_key_columns(model)

    assert foreign_keys - _leading_columns(model) == set()


@pytest.mark.parametrize("model", HOT, ids=lambda model: model.__name__)
def test_no_foreign_key_has_an_index_a_composite_already_gives(model):
    doubled = {
        field.column
        for field in model._meta.concrete_fields
        if isinstance(field, models.ForeignKey) and field.db_index
    } & _composite_leaders(model)

    assert doubled == set()


@pytest.mark.django_db
@pytest.mark.parametrize("model", HOT, ids=lambda model: model.__name__)
def test_the_database_has_the_indexes_the_models_declare(model):
    """The migrations (DropFieldIndex, the concurrent ones) left this backend's tables as the
    models say: every foreign key's column leads an index there, and no other single-column
    index on it remains beside a composite that leads with it."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    indexes = {name: info for name, info in found.items() if info["index"] or info["unique"]}
    leading = {info["columns"][0] for info in indexes.values() if info["columns"]}
    foreign_keys = _foreign_key_columns(model)
    declared = {index.name for index in model._meta.indexes}
    own = {
        info["columns"][0]
        for name, info in indexes.items()
        if len(info["columns"]) == 1 and name not in declared and not info["primary_key"]
    }

    assert foreign_keys <= leading
    assert own & _composite_leaders(model) == set()
