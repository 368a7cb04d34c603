"""The PostgreSQL backend the product runs on: Django's, with its own insert compiler.

``DATABASE_URL=postgres://…`` selects it (flame/settings.py); everything else is Django's.
"""

from __future__ import annotations

from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    compiler_module = "flame.postgresql.compiler"


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
