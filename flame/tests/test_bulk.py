"""flame.bulk (rows_update, row_insert_new) and the PostgreSQL backend's bulk inserts, on the real
database."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assistants.models import ConversationAnalysis
from conversations.models import Conversation, Event, Message
from conversations.tests.factories import ConversationFactory
from flame.bulk import row_insert_new, rows_update
from flame.testing import statement_verbs
from integrations.models import WebhookEvent

pytestmark = pytest.mark.django_db


def test_rows_update_writes_each_instances_values_in_one_statement():
    first, second = ConversationFactory(), ConversationFactory(ai_summary="kept elsewhere")
    at = timezone.now() - timedelta(minutes=3)
    first.ai_summary, first.ai_tags, first.ai_analyzed_at = 'Dice "hola" \\ adiós', ["a"], at
    second.ai_summary, second.ai_tags, second.ai_analyzed_at = "", [], None
    first.status = second.status = Conversation.Status.RESOLVED  # not written: not listed

    with CaptureQueriesContext(connection) as writing:
        rows_update([second, first], ["ai_summary", "ai_tags", "ai_analyzed_at"])

    assert statement_verbs(writing) == ["UPDATE"]
    assert writing.captured_queries[0]["sql"].startswith("2 times: UPDATE")
    rows = {c.pk: c for c in Conversation.objects.filter(pk__in=[first.pk, second.pk])}
    assert (rows[first.pk].ai_summary, rows[first.pk].ai_tags) == ('Dice "hola" \\ adiós', ["a"])
    assert rows[first.pk].ai_analyzed_at == at
    assert (rows[second.pk].ai_summary, rows[second.pk].ai_tags) == ("", [])
    assert rows[second.pk].ai_analyzed_at is None
    assert {row.status for row in rows.values()} == {Conversation.Status.ACTIVE}


def test_a_row_deleted_meanwhile_is_skipped_and_the_rest_written():
    kept, gone = ConversationFactory(), ConversationFactory()
    Conversation.objects.filter(pk=gone.pk).delete()
    kept.ai_summary = gone.ai_summary = "nuevo"

    rows_update([kept, gone], ["ai_summary"])

    assert list(Conversation.objects.values_list("ai_summary", flat=True)) == ["nuevo"]


def test_nothing_to_write_sends_nothing():
    with CaptureQueriesContext(connection) as writing:
        rows_update([], ["ai_summary"])
    assert writing.captured_queries == []


@pytest.mark.parametrize("name", ["tags", "id", "messages"])
def test_only_plain_columns_other_than_the_key_are_written(name):
    conversation = ConversationFactory()
    with pytest.raises(ValueError, match=f"Conversation.{name} is not a column"):
        rows_update([conversation], [name])


def _events(conversation, payloads: list) -> list[Event]:
    return [
        Event(
            workspace_id=conversation.workspace_id,
            kind="test:bulk",
            audience=Event.Audience.CONVERSATION,
            conversation_id=conversation.pk,
            payload=payload,
        )
        for payload in payloads
    ]


def _inserts(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if q["sql"].startswith("INSERT")]


@pytest.mark.postgres
def test_bulk_create_sends_one_unnest_bound_on_the_server_and_returns_the_ids():
    conversation = ConversationFactory()
    payloads = [
        {"text": f"\"{n}\" \\ {{}} ñ 😀 'q' $1 %s", "n": n, "list": [None, {"a": [n]}]}
        for n in range(3)
    ]
    events = _events(conversation, payloads)

    with CaptureQueriesContext(connection) as inserting:
        Event.objects.bulk_create(events)

    (insert,) = _inserts(inserting)
    # One array per column, sent as parameters ($1…), not written into the statement.
    assert "UNNEST(($1)::" in insert
    assert "VALUES" not in insert
    assert '"text"' not in insert
    assert all(event.pk for event in events)
    stored = Event.objects.filter(kind="test:bulk").order_by("pk")
    assert [event.payload for event in stored] == payloads
    assert [event.pk for event in stored] == [event.pk for event in events]


@pytest.mark.postgres
def test_bulk_create_keeps_empty_and_missing_values_of_every_column_type():
    conversation = ConversationFactory()
    at = timezone.now() - timedelta(days=400, microseconds=7)
    messages = [
        Message(
            conversation=conversation,
            workspace_id=conversation.workspace_id,
            content=content,
            metadata=metadata,
            external_id=external_id,
            created_at=at + timedelta(seconds=n),
        )
        for n, (content, metadata, external_id) in enumerate(
            [("", {}, None), ("{a,b} NULL", {"k": None}, "wamid.1"), ("x\ny", [], None)]
        )
    ]
    # A column whose every value is NULL (external_id below) still has its type.
    Message.objects.bulk_create(messages[:1] + messages[2:])
    Message.objects.bulk_create(messages[1:2])

    stored = {m.pk: m for m in Message.objects.filter(conversation=conversation)}
    for message in messages:
        row = stored[message.pk]
        assert (row.content, row.metadata, row.external_id) == (
            message.content,
            message.metadata,
            message.external_id,
        )
        assert row.created_at == message.created_at


@pytest.mark.postgres
def test_bulk_create_skips_conflicting_rows_and_upserts_through_the_same_path():
    conversation, other = ConversationFactory(), ConversationFactory()
    first = Message(conversation=conversation, workspace_id=conversation.workspace_id)
    first.external_id, first.integration_id = "wamid.same", None
    Message.objects.bulk_create(
        [first, Message(conversation=conversation, workspace_id=conversation.workspace_id)]
    )
    again = [
        Message(conversation=conversation, workspace_id=conversation.workspace_id, pk=first.pk),
        Message(conversation=other, workspace_id=other.workspace_id, content="new"),
    ]

    Message.objects.bulk_create(again, ignore_conflicts=True)

    assert Message.objects.filter(conversation=other, content="new").count() == 1
    assert Message.objects.get(pk=first.pk).external_id == "wamid.same"
    due = timezone.now() + timedelta(minutes=5)
    ConversationAnalysis.objects.create(conversation=conversation, due_at=timezone.now())
    ConversationAnalysis.objects.bulk_create(
        [
            ConversationAnalysis(conversation_id=pk, due_at=due)
            for pk in (conversation.pk, other.pk)
        ],
        update_conflicts=True,
        unique_fields=["conversation"],
        update_fields=["due_at"],
    )
    assert set(ConversationAnalysis.objects.values_list("conversation_id", "due_at")) == {
        (conversation.pk, due),
        (other.pk, due),
    }


@pytest.mark.postgres
def test_a_single_row_and_later_statements_use_djangos_own_cursor():
    conversation = ConversationFactory()
    Event.objects.bulk_create(_events(conversation, [{"n": 1}, {"n": 2}]))

    with CaptureQueriesContext(connection) as after:
        Event.objects.bulk_create(_events(conversation, [{"n": "3 'quoted'"}]))
        Conversation.objects.filter(pk=conversation.pk).update(ai_summary="x")

    single, update = after.captured_queries[0]["sql"], after.captured_queries[1]["sql"]
    # Django's default cursor writes the values into the statement (client-side binding).
    assert "VALUES" in single
    assert "3 ''quoted''" in single
    assert "'x'" in update
    assert isinstance(connection.cursor().cursor, psycopg.ClientCursor)


@pytest.mark.postgres
def test_a_bulk_insert_django_writes_as_values_keeps_djangos_cursor_past_65535_values():
    # BinaryField has its own placeholder, so Django writes VALUES: bound on the server, this
    # many values would pass the 65,535 parameters a statement may have.
    events = [_webhook_event(b"{}", f"sha-{n}") for n in range(4_000)]

    with CaptureQueriesContext(connection) as inserting:
        WebhookEvent.objects.bulk_create(events)

    (insert,) = _inserts(inserting)
    assert "VALUES" in insert
    assert "sha-3999" in insert  # the values are in the statement's text
    assert WebhookEvent.objects.filter(body_sha256__startswith="sha-").count() == 4_000


@pytest.mark.postgres
def test_a_failed_bulk_insert_leaves_the_default_cursor_behind():
    conversation = ConversationFactory()
    duplicate = Message(conversation=conversation, workspace_id=conversation.workspace_id)
    Message.objects.bulk_create([duplicate, Message(conversation=conversation)][:1])

    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.bulk_create([duplicate, Message(conversation=conversation)])

    assert isinstance(connection.cursor().cursor, psycopg.ClientCursor)
    assert Message.objects.filter(conversation=conversation).count() == 1


def _webhook_event(body: bytes, sha: str) -> WebhookEvent:
    return WebhookEvent(
        platform="whatsapp",
        body=body,
        body_sha256=sha,
        headers={"X-Hub-Signature-256": 'sha256="x" \\ y'},
        verified_integration_ids=["a", "b"],
    )


def test_row_insert_new_writes_one_row_and_refuses_a_repeat_in_one_statement_each():
    body = b"\x00binary\xff{}"
    first, repeat = _webhook_event(body, "s" * 64), _webhook_event(b"other", "s" * 64)

    with CaptureQueriesContext(connection) as writing:
        written = row_insert_new(first)
        repeated = row_insert_new(repeat)

    assert (written, repeated) == (True, False)
    assert statement_verbs(writing) == ["INSERT", "INSERT"]
    assert repeat.pk is None
    assert repeat._state.adding
    stored = WebhookEvent.objects.get()  # the transaction is still usable after the repeat
    assert stored.pk == first.pk
    assert not first._state.adding
    assert bytes(stored.body) == body
    assert stored.headers == {"X-Hub-Signature-256": 'sha256="x" \\ y'}
    assert stored.verified_integration_ids == ["a", "b"]
    assert (stored.status, stored.attempts) == ("received", 0)
    assert stored.received_at == first.received_at


def test_row_insert_new_where_the_database_cannot_return_the_key(monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite before 3.35 (no RETURNING); every supported PostgreSQL returns")
    monkeypatch.setattr(connection.features, "can_return_columns_from_insert", False)

    first = _webhook_event(b"a", "t" * 64)
    assert row_insert_new(first)
    assert not row_insert_new(_webhook_event(b"b", "t" * 64))

    assert WebhookEvent.objects.get().pk == first.pk


def test_row_insert_new_is_for_keys_the_database_generates():
    with pytest.raises(ValueError, match="not generated by the database"):
        row_insert_new(Conversation())
