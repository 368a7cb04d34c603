"""Migration 0011 makes the messages' unique (integration, external_id) unconditional and drops
the channel's own index, building and dropping concurrently; and it goes back."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from flame.testing import migrate_to, schema_at

# PostgreSQL: the concurrent path is the one a deployment takes, and going back unapplies later
# migrations that SQLite could only undo by rebuilding tables (see test_migration_0005).
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BEFORE = [("conversations", "0010_drop_covered_indexes")]
AFTER = [("conversations", "0011_message_integration_led_by_unique")]
UNIQUE = "message_external_id_unique_per_integration"


def _message_indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'conversations_message'"
        )
        return dict(cursor.fetchall())


def _unique_constraints() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE contype = 'u' "
            "AND conrelid = 'conversations_message'::regclass"
        )
        return {name for (name,) in cursor.fetchall()}


@pytest.fixture
def old_apps():
    with schema_at(BEFORE) as apps:
        yield apps


def _stored_messages(apps):
    Workspace = apps.get_model("accounts", "Workspace")
    Integration = apps.get_model("integrations", "Integration")
    Contact = apps.get_model("conversations", "Contact")
    Conversation = apps.get_model("conversations", "Conversation")
    Message = apps.get_model("conversations", "Message")
    workspace = Workspace.objects.create(name="Tienda")
    channel = Integration.objects.create(
        workspace=workspace, platform="sandbox", name="Canal", external_account_id="acct-1"
    )
    contact = Contact.objects.create(workspace=workspace, name="Cliente")
    conversation = Conversation.objects.create(
        workspace=workspace, contact=contact, integration=channel, platform="sandbox"
    )

    def message(external_id):
        return Message.objects.create(
            conversation=conversation,
            workspace=workspace,
            integration=channel,
            sender="agent" if external_id is None else "user",
            content="hola",
            external_id=external_id,
        )

    return message


def test_forwards_keeps_the_rows_and_the_guarantee(old_apps):
    message = _stored_messages(old_apps)
    message("wamid.1")
    message(None)
    message(None)

    new_apps = migrate_to(AFTER)

    indexes = _message_indexes()
    assert UNIQUE in _unique_constraints()
    assert "WHERE" not in indexes[UNIQUE]
    assert not [name for name in indexes if "integration_id" in name or name.endswith("_new")]
    assert new_apps.get_model("conversations", "Message").objects.count() == 3
    message(None)  # messages without a provider id never clash
    with pytest.raises(IntegrityError), transaction.atomic():
        message("wamid.1")


def test_backwards_restores_the_partial_index_and_the_channel_index(old_apps):
    migrate_to(AFTER)

    migrate_to(BEFORE)

    indexes = _message_indexes()
    assert UNIQUE not in _unique_constraints()
    assert indexes[UNIQUE].endswith("WHERE (external_id IS NOT NULL)")
    assert [name for name in indexes if name.startswith("conversations_message_integration_id")]


def test_a_run_that_stopped_after_dropping_the_old_index_completes(old_apps):
    """The new index was built and the old one dropped when the run stopped: running the
    migration again keeps that index (the only guard left) and attaches it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE UNIQUE INDEX {UNIQUE}_new "
            "ON conversations_message (integration_id, external_id)"
        )
        cursor.execute(f"DROP INDEX {UNIQUE}")

    migrate_to(AFTER)

    indexes = _message_indexes()
    assert UNIQUE in _unique_constraints()
    assert "WHERE" not in indexes[UNIQUE]
    assert not [name for name in indexes if name.endswith("_new")]
