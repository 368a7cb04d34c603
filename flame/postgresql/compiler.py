"""Bulk inserts as Django 5.2's ``UNNEST`` of one array per column, bound on the server.

With Django's default client-side binding, psycopg writes every array element into the
statement's text in Python (measured: UNNEST 0.28-0.40 ms of CPU per row of 100
``message:new`` events, multi-row VALUES 0.10-0.17 ms). VALUES in turn costs Django a
placeholder and a prepared value per cell and psycopg a Python scan of the statement's
thousands of placeholders, a third of the worker's CPU in ingestion. So a bulk insert here is
the UNNEST statement, which is the same short text whatever the number of rows (psycopg parses
it once), with its arrays sent as binary parameters (``%b``) through a cursor that binds on the
server: psycopg packs each array in one pass, every element through its C dumper.

A single row, and a bulk insert Django writes as VALUES (a field with its own placeholder, an
expression among the values), are sent as Django sends them: bound on the client, where a
statement has no limit on its number of values.
"""

from collections.abc import Sequence
from typing import Any

from django.db.backends.postgresql.compiler import (
    InsertUnnest,
    SQLAggregateCompiler,
    SQLCompiler,
    SQLDeleteCompiler,
    SQLUpdateCompiler,
)
from django.db.backends.postgresql.compiler import (
    SQLInsertCompiler as DjangoInsertCompiler,
)

from flame.postgresql.base import binding_on_server

__all__ = [
    "SQLAggregateCompiler",
    "SQLCompiler",
    "SQLDeleteCompiler",
    "SQLInsertCompiler",
    "SQLUpdateCompiler",
]


class SQLInsertCompiler(DjangoInsertCompiler):
    _statements: list[tuple[str, Any]] | None = None
    _binary_arrays = False

    def assemble_as_sql(self, fields, value_rows):
        placeholders, params = super().assemble_as_sql(fields, value_rows)
        if isinstance(placeholders, InsertUnnest):
            # "(%s)::uuid[]" → "(%b)::uuid[]": the array in binary, which only a cursor that
            # binds on the server takes (execute_sql provides one for these statements).
            placeholders = InsertUnnest(p.replace("(%s)", "(%b)", 1) for p in placeholders)
            self._binary_arrays = True
        return placeholders, params

    def as_sql(self) -> list[tuple[str, Any]]:  # type: ignore[override]  # as django-stubs has it
        # Compiled once: execute_sql needs to know the statement before it opens the cursor.
        if self._statements is None:
            self._statements = super().as_sql()
        return self._statements

    def execute_sql(  # type: ignore[override]  # as django-stubs declares it
        self, returning_fields: Sequence[str] | None = None
    ) -> list[tuple[Any]]:
        self.returning_fields = returning_fields  # read by as_sql (RETURNING)
        self.as_sql()
        if not self._binary_arrays:
            # Django's cursor: the VALUES form can hold more than the 65,535 parameters a
            # statement bound on the server may have.
            return super().execute_sql(returning_fields)
        with binding_on_server(self.connection):
            return super().execute_sql(returning_fields)
