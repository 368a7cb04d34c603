"""Shared migration operations, run for real against the test database."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test.utils import CaptureQueriesContext

PENDING = ("integrations", "0007_webhook_event_pending")
BEFORE = ("integrations", "0006_templates_whatsapp")


def _index(name: str) -> dict | None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "integrations_webhookevent")
    return constraints.get(name)


def _states():
    loader = MigrationLoader(connection)
    operation = loader.get_migration(*PENDING).operations[0]
    return operation, loader.project_state(BEFORE), loader.project_state(PENDING)


def _run(apply, states_from, states_to) -> list[str]:
    with (
        CaptureQueriesContext(connection) as captured,
        connection.schema_editor(atomic=False) as editor,
    ):
        apply("integrations", editor, states_from, states_to)
    return [query["sql"] for query in captured]


@pytest.mark.django_db(transaction=True)
def test_the_pending_index_is_removed_and_built_again_concurrently_on_postgresql():
    # given: the migrated database, with the index of pending webhook events
    operation, before, after = _states()
    assert _index("webhook_event_pending")["columns"] == ["id"]

    # when: its migration is reversed, then applied again
    removed = _run(operation.database_backwards, after, before)
    gone = _index("webhook_event_pending")
    added = _run(operation.database_forwards, before, after)

    # then: the index went and came back, without locking writes out on PostgreSQL
    assert gone is None
    assert _index("webhook_event_pending")["columns"] == ["id"]
    concurrently = connection.vendor == "postgresql"
    assert any("CONCURRENTLY" in sql for sql in removed) is concurrently
    assert any("CONCURRENTLY" in sql for sql in added) is concurrently


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_pending_index_holds_only_pending_events_and_is_valid():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_indexdef(i.indexrelid), i.indisvalid FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'webhook_event_pending'"
        )
        definition, valid = cursor.fetchone()
    assert "WHERE ((status)::text = 'received'::text)" in definition
    assert valid
