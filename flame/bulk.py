"""Many rows updated to their instances' values in one round trip, with nothing compiled per row.

Django's ``bulk_update`` builds a ``CASE WHEN pk = … THEN …`` per field and row, then resolves
and compiles that expression tree: for a chunk of 50 analyses (five fields) it was more than
half of the worker's time analysing. Here every row is the same prepared statement
(``UPDATE t SET a = %s, b = %s WHERE pk = %s``) sent with ``executemany``, which psycopg
pipelines: one round trip for the chunk on PostgreSQL, one loop in C on SQLite.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from django.db import connection
from django.db.models import Field, Model


def rows_update(objs: Sequence[Model], fields: Sequence[str]) -> None:
    """Write ``fields`` of every instance in ``objs`` (one model) by primary key, in key order
    (two writers take the row locks in the same order). Like ``bulk_update``: each value is
    the instance's attribute as it is, no ``pre_save`` (``auto_now`` is not applied), and a
    row that no longer exists is skipped."""
    if not objs:
        return
    model = type(objs[0])
    columns = _columns(model, tuple(fields))
    pk = model._meta.pk
    assert pk is not None
    rows = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns]
        + [pk.get_db_prep_value(obj.pk, connection)]
        for obj in sorted(objs, key=lambda obj: obj.pk)  # the order of ``ORDER BY pk``
    ]
    with connection.cursor() as cursor:
        cursor.executemany(_update_sql(model, tuple(fields)), rows)


@functools.cache
def _columns(model: type[Model], fields: tuple[str, ...]) -> list[Field]:
    """The named fields, each a plain column of ``model``'s table other than its key."""
    by_name = {field.name: field for field in model._meta.concrete_fields}
    columns = []
    for name in fields:
        field = by_name.get(name)
        if field is None or field.primary_key or not field.column:
            raise ValueError(f"{model.__name__}.{name} is not a column rows_update writes")
        columns.append(field)
    return columns


def _column(field: Field) -> str:
    assert field.column  # a concrete field's (_columns keeps no other)
    return field.column


@functools.cache
def _update_sql(model: type[Model], fields: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    pk = model._meta.pk
    assert pk is not None
    assignments = ", ".join(f"{quote(_column(field))} = %s" for field in _columns(model, fields))
    table, key = quote(model._meta.db_table), quote(_column(pk))
    return f"UPDATE {table} SET {assignments} WHERE {key} = %s"  # noqa: S608 - names from model metadata
