"""The PostgreSQL backend the product runs on: Django's, with its own insert compiler.

``DATABASE_URL=postgres://…`` selects it (flame/settings.py); everything else is Django's.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, contextmanager
from typing import cast

from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    compiler_module = "flame.postgresql.compiler"


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
    _bind_on_server = False

    @contextmanager
    def binding_on_server(self):
        """Cursors made inside bind their parameters on the server (psycopg's ``Cursor``), not
        in the statement's text as Django's default cursor does: the bulk insert compiler's
        binary arrays need it."""
        self._bind_on_server = True
        try:
            yield
        finally:
            self._bind_on_server = False

    def create_cursor(self, name=None):
        if name is not None or not self._bind_on_server:
            return super().create_cursor(name)
        # Django's own class for OPTIONS["server_side_binding"], made by Django's create_cursor
        # (which also sets the cursor's timezone) through the connection's factory.
        factory = self.connection.cursor_factory
        self.connection.cursor_factory = base.ServerBindingCursor
        try:
            return super().create_cursor(name)
        finally:
            self.connection.cursor_factory = factory


def binding_on_server(connection) -> AbstractContextManager[None]:
    """``DatabaseWrapper.binding_on_server`` of ``connection`` (this backend's), for a caller
    that sends a statement of its own with ``%b`` parameters."""
    return cast(DatabaseWrapper, connection).binding_on_server()
