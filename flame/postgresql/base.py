"""The PostgreSQL backend the product runs on: Django's, with its own insert compiler, a
faster reader of ``timestamptz`` values and a health check that spares a busy connection the
round trip.

``DATABASE_URL=postgres://…`` selects it (flame/settings.py); everything else is Django's.
"""

from __future__ import annotations

import functools
import select
import time
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import cast

from django.db.backends.postgresql import base, operations
from django.db.backends.postgresql.psycopg_any import BaseTzLoader
from psycopg import pq
from psycopg.abc import AdaptContext, Buffer
from psycopg.adapt import AdaptersMap
from psycopg.types.datetime import TimestamptzLoader

# How long after a request or task last used a connection its health is taken from its socket
# alone (HikariCP's "alive bypass window", 500 ms there): a web process under load reuses each
# connection every few milliseconds, and Django's health check (CONN_HEALTH_CHECKS) sent every
# request a ``SELECT 1`` before its first query, a second round trip to PostgreSQL for a webhook
# that needs one. A connection idle for longer is asked, as Django asks.
TRUSTED_AFTER_USE_SECONDS = 1.0

_load_iso = TimestamptzLoader._load_iso  # the ISO DateStyle's parser: what the fast path reads


class UtcTimestamptzLoader(BaseTzLoader):
    """Django's ``timestamptz`` loader for a UTC session, reading PostgreSQL's own text in C.

    Django registers a Python subclass of psycopg's loader (to set the tzinfo it wants), so
    psycopg cannot use its C loader, and every datetime read went through a regular
    expression: about 4 µs a value through the cursor (under 1 µs here), a few dozen values in
    each message the worker stores. A UTC session writes every value as
    ``2026-12-03 09:15:02.123456+00``, which ``datetime.fromisoformat`` reads in C with
    ``timezone.utc``, the tzinfo Django's loader gives. Anything else (BC years, infinity,
    another DateStyle or zone) takes Django's path, errors included.
    """

    timezone = UTC

    def __init__(self, oid: int, context: AdaptContext | None = None):
        super().__init__(oid, context)
        self._fast = self._timezone is UTC and self._load_method is _load_iso

    def load(self, data: Buffer) -> datetime:
        if self._fast and data[-3:] == b"+00":
            try:
                return datetime.fromisoformat(bytes(data).decode())
            except ValueError:
                pass
        return super().load(data)


@functools.cache
def _utc_adapters(template: AdaptersMap) -> AdaptersMap:
    adapters = AdaptersMap(template)
    adapters.register_loader("timestamptz", UtcTimestamptzLoader)
    return adapters


class DatabaseOperations(operations.DatabaseOperations):
    compiler_module = "flame.postgresql.compiler"


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
    _bind_on_server = False
    _used_at: float | None = None  # when a request or task last finished with the connection

    def connect(self):
        super().connect()
        self._used_at = None

    def close_if_unusable_or_obsolete(self):
        # At a request's (task's) start and end. Django set health_check_done when the request
        # took its first cursor from a connection it already had: that request used it.
        if self.connection is not None and self.health_check_done:
            self._used_at = time.monotonic()
        super().close_if_unusable_or_obsolete()

    def is_usable(self):
        return self._quiet_since_recent_use() or super().is_usable()

    def _quiet_since_recent_use(self) -> bool:
        """Used moments ago, left idle, and nothing has come in since: not even the message and
        the end of stream a backend sends when it is terminated or the server restarts.
        Anything else (an error since, a notice waiting, a longer pause) gets the real check."""
        connection = self.connection
        if connection is None or self.errors_occurred or self._used_at is None:
            return False
        if time.monotonic() - self._used_at >= TRUSTED_AFTER_USE_SECONDS:
            return False
        if connection.closed or connection.info.transaction_status != pq.TransactionStatus.IDLE:
            return False
        poller = select.poll()
        poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
        return not poller.poll(0)  # POLLHUP and POLLERR are reported whatever was asked

    def get_connection_params(self):
        params = super().get_connection_params()
        if self.timezone is UTC:  # USE_TZ: Django reads every timestamptz in UTC
            params["context"] = _utc_adapters(params["context"])
        return params

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
