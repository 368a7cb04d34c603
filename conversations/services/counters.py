"""Conversation counters moved by each new message, computed by the database from the row as
it is (never read, changed and written back) so concurrent writers never lose an update."""

from __future__ import annotations

import functools
from typing import Any

from django.db import connection
from django.db.models import Case, DateTimeField, F, Field, TextField, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from conversations.models import Conversation, Message
from conversations.services.events import preview
from flame.postgresql.base import binding_on_server


def customer_wrote_at(at) -> Greatest:
    return Greatest(Coalesce(F("last_customer_message_at"), Value(at)), Value(at))


# --- the customer's messages ---------------------------------------------------------------------

# What a conversation's row becomes when {n} of the customer's messages arrive, the newest at
# {at} (its preview {preview}) and the first at {first}: "if this message is the newest, it is
# the preview"; counts and unread go up; the customer wrote (the conversation waits for us since
# its first unanswered message); a snoozed conversation is back in the open list.
_CUSTOMER_SET = """
    {message_count} = {message_count} + {n},
    {unread_count} = {unread_count} + {n},
    {last_message} = CASE WHEN {last_message_at} <= {at} THEN {preview} ELSE {last_message} END,
    {last_message_sender} = CASE WHEN {last_message_at} <= {at} THEN %(sender)s
        ELSE {last_message_sender} END,
    {last_message_at} = {greatest}({last_message_at}, {at}),
    {last_customer_message_at} = {greatest}(COALESCE({last_customer_message_at}, {at}), {at}),
    {waiting_since} = COALESCE({waiting_since}, {first}),
    {snoozed} = %(snoozed)s,
    {snoozed_until} = NULL,
    {updated_at} = %(now)s
"""

# PostgreSQL: every conversation of the batch in one statement that returns the rows as it left
# them, so the ``message:new`` payloads need no second read (with the contact, agent and
# assistant joined, that read was a sixth of the worker's CPU per message). The rows are locked
# first, in key order, by the ARRAY(...) subquery, which runs once before the update: two workers
# with overlapping conversations take the locks in the same order. One parameter per column
# (``unnest``), so the statement's text is the same whatever the batch's size, each array sent
# in binary (``%b``) through a cursor that binds on the server (see flame.postgresql).
_CUSTOMER_SQL_RETURNING = """
UPDATE {table} AS changed SET {assignments}
FROM unnest(
    %(ids)b::uuid[], %(counts)b::integer[], %(previews)b::text[],
    %(ats)b::timestamptz[], %(firsts)b::timestamptz[]
) AS arrived(row_id, row_count, row_preview, row_at, row_first)
WHERE changed.{id} = arrived.row_id AND changed.{id} = ANY(ARRAY(
    SELECT {id} FROM {table} WHERE {id} = ANY(%(ids)b::uuid[]) ORDER BY {id} FOR UPDATE
))
RETURNING changed.*
"""

# Elsewhere (SQLite, one process): one statement per conversation, sent with executemany.
_CUSTOMER_SQL = "UPDATE {table} SET {assignments} WHERE {id} = %(id)s"


@functools.cache
def _customer_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    names = {field.name: quote(column) for field in _fields() if (column := field.column)}
    if vendor == "postgresql":
        arrived = {"n": "arrived.row_count", "at": "arrived.row_at", "first": "arrived.row_first"}
        assignments = _CUSTOMER_SET.format(
            greatest="GREATEST", preview="arrived.row_preview", **arrived, **names
        )
        template = _CUSTOMER_SQL_RETURNING
    else:
        # SQLite's two-argument MAX is PostgreSQL's GREATEST (no argument here is ever NULL).
        row = {"n": "%(count)s", "at": "%(at)s", "first": "%(first)s"}
        assignments = _CUSTOMER_SET.format(greatest="MAX", preview="%(preview)s", **row, **names)
        template = _CUSTOMER_SQL
    return template.format(
        table=quote(Conversation._meta.db_table), assignments=assignments, id=names["id"]
    )


def _fields() -> list[Field]:
    return [field for field in Conversation._meta.concrete_fields if isinstance(field, Field)]


def _db(name: str, value):
    field = Conversation._meta.get_field(name)
    assert isinstance(field, Field)  # a column of the row, not a relation's reverse side
    return field.get_db_prep_value(value, connection)


def _arrived(conversation_id, messages: list[Message]) -> dict:
    """One conversation's part of the statement: how many arrived, the newest, the first."""
    newest = max(messages, key=lambda item: item.created_at)
    return {
        "id": _db("id", conversation_id),
        "count": len(messages),
        "preview": preview(newest),
        "at": _db("last_message_at", newest.created_at),
        "first": _db("waiting_since", min(item.created_at for item in messages)),
    }


def count_customer_messages(by_conversation: dict[Any, list[Message]]) -> dict:
    """Move the counters of every conversation a delivery's customer messages went to, and
    return those conversations as the update left them (key → Conversation, its columns only).

    The statement is built once; the ORM compiled the same CASE/GREATEST update again for each
    conversation, a tenth of the worker's time under a burst. Rows are locked in key order, so
    two workers updating overlapping conversations do not deadlock.
    """
    if not by_conversation:
        return {}
    shared = {
        "sender": Message.Sender.USER.value,
        "snoozed": _db("snoozed", False),
        "now": _db("updated_at", timezone.now()),
    }
    rows = [_arrived(key, by_conversation[key]) for key in sorted(by_conversation, key=str)]
    sql = _customer_sql(connection.vendor)
    if connection.vendor == "postgresql":
        arrays = {
            "ids": "id",
            "counts": "count",
            "previews": "preview",
            "ats": "at",
            "firsts": "first",
        }
        params = {**shared, **{name: [row[key] for row in rows] for name, key in arrays.items()}}
        with binding_on_server(connection):
            return {c.pk: c for c in Conversation.objects.raw(sql, params)}
    with connection.cursor() as cursor:
        cursor.executemany(sql, [{**shared, **row} for row in rows])  # in key order
    return {c.pk: c for c in Conversation.objects.filter(pk__in=list(by_conversation))}


# --- our side's messages -------------------------------------------------------------------------


def count_new_message(conversation: Conversation, message: Message) -> None:
    """An agent's or an assistant's message (the customer's go through
    ``count_customer_messages``)."""
    at = message.created_at
    changes: dict[str, Any] = {
        "message_count": F("message_count") + 1,
        "last_message": Case(
            When(last_message_at__lte=at, then=Value(preview(message))),
            default=F("last_message"),
            output_field=TextField(),
        ),
        "last_message_sender": Case(
            When(last_message_at__lte=at, then=Value(message.sender)),
            default=F("last_message_sender"),
            output_field=TextField(),
        ),
        "last_message_at": Greatest(F("last_message_at"), Value(at)),
        "updated_at": timezone.now(),
        "first_response_at": Coalesce(F("first_response_at"), Value(at)),
    }
    # Only a person answers: an assistant's "someone will get back to you" leaves the
    # conversation unread and waiting for a human.
    if message.sender == Message.Sender.AGENT:
        changes.update(_agent_answered(at))
    Conversation.objects.filter(pk=conversation.pk).update(**changes)


def _agent_answered(at) -> dict[str, Any]:
    """An agent's message at ``at`` answers the customer, unless they wrote again after it
    (the late echo of a message sent from the phone app)."""
    return {
        "unread_count": 0,
        "last_agent_reply_at": Value(at),
        "waiting_since": Case(
            When(last_customer_message_at__gt=at, then=F("waiting_since")),
            default=Value(None),
            output_field=DateTimeField(),
        ),
    }
