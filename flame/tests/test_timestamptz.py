"""The PostgreSQL backend's timestamptz loader reads what Django's reads, the same way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.db import DataError, connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.test.utils import override_settings

from conversations.models import Message
from conversations.tests.factories import MessageFactory
from flame.postgresql.base import UtcTimestamptzLoader

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

# As PostgreSQL writes them in a UTC session, and the edges around them.
VALUES = [
    "2026-12-03 09:15:02.123456+00",
    "2026-12-03 09:15:02+00",
    "2026-12-03 09:15:02.1+00",
    "2026-12-03 23:59:59.999999+00",
    "0099-01-01 00:00:00+00",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
    "2026-12-03 09:15:02.5-03:30",
]
UNREADABLE = ["infinity", "-infinity", "0044-03-15 12:00:00+00 BC"]


def _read(sql: str, loader) -> object:
    with connection.cursor() as cursor:
        cursor.cursor.adapters.register_loader("timestamptz", loader)
        cursor.execute(sql)
        return cursor.fetchone()[0]


def _django_loader():
    holder = psycopg.adapt.AdaptersMap(psycopg.adapters)
    register_tzloader(UTC, holder)
    return holder.get_loader(psycopg.adapters.types["timestamptz"].oid, psycopg.pq.Format.TEXT)


def test_the_product_connection_reads_timestamptz_with_it():
    connection.ensure_connection()
    oid = psycopg.adapters.types["timestamptz"].oid
    loader = connection.connection.adapters.get_loader(oid, psycopg.pq.Format.TEXT)
    assert loader is UtcTimestamptzLoader


@pytest.mark.parametrize("value", VALUES)
def test_each_value_reads_as_djangos_loader_reads_it(value):
    sql = f"SELECT '{value}'::timestamptz"
    ours, django = _read(sql, UtcTimestamptzLoader), _read(sql, _django_loader())
    assert ours == django
    assert ours.tzinfo is django.tzinfo is UTC
    assert ours.isoformat() == django.isoformat()


@pytest.mark.parametrize("value", UNREADABLE)
def test_what_python_cannot_hold_fails_as_with_djangos_loader(value):
    sql = f"SELECT '{value}'::timestamptz"
    with pytest.raises(DataError) as ours:
        _read(sql, UtcTimestamptzLoader)
    with pytest.raises(DataError) as django:
        _read(sql, _django_loader())
    assert str(ours.value) == str(django.value)


def test_postgresqls_own_text_skips_djangos_parser_and_the_rest_goes_to_it():
    connection.ensure_connection()
    loader = UtcTimestamptzLoader(psycopg.adapters.types["timestamptz"].oid, connection.connection)
    parsed = []
    marker = datetime(2000, 1, 1)
    loader._load_method = lambda _self, data: parsed.append(bytes(data)) or marker

    assert loader.load(b"2026-12-03 09:15:02.123456+00") == datetime(
        2026, 12, 3, 9, 15, 2, 123456, tzinfo=UTC
    )
    djangos = marker.replace(tzinfo=UTC)
    assert loader.load(b"infinity") == loader.load(b"2026-12-03 09:15:02-05") == djangos
    assert parsed == [b"infinity", b"2026-12-03 09:15:02-05"]


def test_a_session_in_another_zone_takes_djangos_path():
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'America/Bogota'")
        try:
            value = _read("SELECT '2026-12-03 09:15:02+00'::timestamptz", UtcTimestamptzLoader)
            django = _read("SELECT '2026-12-03 09:15:02+00'::timestamptz", _django_loader())
        finally:
            cursor.execute("SET TIME ZONE 'UTC'")
    assert value == django
    assert (value.hour, value.tzinfo) == (4, UTC)  # Django's wall time, relabelled


def test_models_read_back_what_they_stored():
    message = MessageFactory()
    at = datetime(2026, 12, 3, 9, 15, 2, 7, tzinfo=UTC) - timedelta(days=400)
    Message.objects.filter(pk=message.pk).update(created_at=at)
    assert Message.objects.get(pk=message.pk).created_at == at


@override_settings(USE_TZ=False)
def test_without_time_zones_django_keeps_its_own_loader():
    params = connection.get_connection_params()
    oid = psycopg.adapters.types["timestamptz"].oid
    assert params["context"].get_loader(oid, psycopg.pq.Format.TEXT) is not UtcTimestamptzLoader
