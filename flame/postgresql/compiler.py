"""Bulk inserts as multi-row VALUES rather than Django 5.2's ``UNNEST`` of one array per column.

UNNEST saves PostgreSQL planning time on very large batches, but with client-side parameter
binding (Django's default for psycopg 3) every array element is quoted in Python, a regex
substitution per quote character. Our bulk inserts are the hot path's events and messages,
at most a few hundred rows of JSON and text full of quotes: measured on 100 ``message:new``
events, UNNEST cost 0.28-0.40 ms of CPU per row and VALUES 0.10-0.17 ms, where psycopg quotes
each value in C.
"""

from django.db.backends.postgresql.compiler import (
    SQLAggregateCompiler,
    SQLCompiler,
    SQLDeleteCompiler,
    SQLUpdateCompiler,
)

# Django's generic insert compiler: INSERT ... VALUES (...), (...).
from django.db.models.sql.compiler import SQLInsertCompiler

__all__ = [
    "SQLAggregateCompiler",
    "SQLCompiler",
    "SQLDeleteCompiler",
    "SQLInsertCompiler",
    "SQLUpdateCompiler",
]
