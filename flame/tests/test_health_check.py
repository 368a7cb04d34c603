"""The PostgreSQL backend's health check: a connection a request used moments ago is trusted on
its socket's word, and anything that could mean a dead backend still gets Django's SELECT 1."""

from __future__ import annotations

import select
import time
from unittest import mock

import psycopg
import pytest
from django.db import connection

from flame.postgresql import base

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def wrapper():
    """A connection of its own, in autocommit as a web request's is (the test's is inside its
    transaction), kept between requests as the product keeps it (CONN_MAX_AGE)."""
    own = base.DatabaseWrapper({**connection.settings_dict, "CONN_MAX_AGE": 60}, alias="default")
    yield own
    own.close()


@pytest.fixture
def sent():
    """Every statement psycopg sends, Django's own SELECT 1 included (it bypasses Django)."""
    statements: list[str] = []
    original = psycopg.Cursor.execute

    def execute(cursor, query, *args, **kwargs):
        statements.append(str(query))
        return original(cursor, query, *args, **kwargs)

    with mock.patch.object(psycopg.Cursor, "execute", execute):
        yield statements


def _request(wrapper, sql: str = "SELECT 2") -> int:
    """What a request does with the connection: the start and end signals around one query.
    Returns the backend's process id."""
    wrapper.close_if_unusable_or_obsolete()
    with wrapper.cursor() as cursor:
        cursor.execute(sql)
        cursor.fetchone()
        pid = wrapper.connection.info.backend_pid
    wrapper.close_if_unusable_or_obsolete()
    return pid


def _wait_readable(wrapper) -> None:
    poller = select.poll()
    poller.register(wrapper.connection.fileno(), select.POLLIN)
    assert poller.poll(5000), "the terminated backend's socket never said so"


def test_a_connection_used_moments_ago_is_not_asked_again(wrapper, sent):
    _request(wrapper)  # its first use after connecting: asked, as Django asks
    first = _request(wrapper)
    sent.clear()

    assert _request(wrapper) == first
    assert sent == ["SELECT 2"]  # one round trip, no SELECT 1 before it


def test_a_connection_idle_longer_than_the_window_is_asked(wrapper, sent, monkeypatch):
    _request(wrapper)
    _request(wrapper)
    monkeypatch.setattr(base, "TRUSTED_AFTER_USE_SECONDS", 0.05)
    time.sleep(0.1)
    sent.clear()

    _request(wrapper)

    assert sent == ["SELECT 1", "SELECT 2"]


def test_after_an_error_the_connection_is_asked(wrapper, sent):
    _request(wrapper)
    _request(wrapper)
    wrapper.close_if_unusable_or_obsolete()
    wrapper.errors_occurred = True  # what Django's error wrapper sets for a failed query
    sent.clear()

    wrapper.close_if_unusable_or_obsolete()

    assert sent == ["SELECT 1"]
    assert wrapper.connection is not None
    assert not wrapper.errors_occurred


def test_a_terminated_backend_is_replaced_before_the_request_uses_it(wrapper, sent):
    _request(wrapper)
    before = _request(wrapper)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [before])
    _wait_readable(wrapper)  # its last words and the end of the stream
    sent.clear()

    after = _request(wrapper, "SELECT 3")  # would raise had the dead connection been trusted

    assert after != before
    assert sent[0] == "SELECT 1"
    assert sent[-1] == "SELECT 3"


def test_a_new_connection_is_not_trusted_on_the_old_ones_use(wrapper):
    _request(wrapper)
    _request(wrapper)
    assert wrapper._used_at is not None

    wrapper.close()
    wrapper.connect()

    assert wrapper._used_at is None
