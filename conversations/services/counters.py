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


def customer_wrote_at(at) -> Greatest:
    return Greatest(Coalesce(F("last_customer_message_at"), Value(at)), Value(at))


# --- the customer's messages ---------------------------------------------------------------------

# One statement per conversation, the same text for all: "if this message is the newest, it is
# the preview"; counts and unread go up; the customer wrote (the conversation waits for us since
# its first unanswered message); a snoozed conversation is back in the open list.
_CUSTOMER_SQL = """
UPDATE {table} SET
    {message_count} = {message_count} + %s,
    {unread_count} = {unread_count} + %s,
    {last_message} = CASE WHEN {last_message_at} <= %s THEN %s ELSE {last_message} END,
    {last_message_sender} = CASE WHEN {last_message_at} <= %s THEN %s
        ELSE {last_message_sender} END,
    {last_message_at} = {greatest}({last_message_at}, %s),
    {last_customer_message_at} = {greatest}(COALESCE({last_customer_message_at}, %s), %s),
    {waiting_since} = COALESCE({waiting_since}, %s),
    {snoozed} = %s,
    {snoozed_until} = NULL,
    {updated_at} = %s
WHERE {id} = %s
"""


@functools.cache
def _customer_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    names = {field.name: quote(column) for field in _fields() if (column := field.column)}
    # SQLite's two-argument MAX is PostgreSQL's GREATEST (no argument here is ever NULL).
    greatest = "GREATEST" if vendor == "postgresql" else "MAX"
    return _CUSTOMER_SQL.format(
        table=quote(Conversation._meta.db_table), greatest=greatest, **names
    )


def _fields() -> list[Field]:
    return [field for field in Conversation._meta.concrete_fields if isinstance(field, Field)]


def _db(name: str, value):
    field = Conversation._meta.get_field(name)
    assert isinstance(field, Field)  # a column of the row, not a relation's reverse side
    return field.get_db_prep_value(value, connection)


def _customer_params(conversation_id, messages: list[Message], now) -> tuple:
    newest = max(messages, key=lambda item: item.created_at)
    at = _db("last_message_at", newest.created_at)
    first = _db("waiting_since", min(item.created_at for item in messages))
    count = len(messages)
    return (
        count,
        count,
        at,
        preview(newest),
        at,
        Message.Sender.USER.value,
        at,
        at,
        at,
        first,
        _db("snoozed", False),
        now,
        _db("id", conversation_id),
    )


def count_customer_messages(by_conversation: dict[Any, list[Message]]) -> None:
    """Move the counters of every conversation a delivery's customer messages went to.

    One statement per conversation, built once and sent together (psycopg pipelines
    ``executemany``: one round trip for the batch). The ORM compiled the same CASE/GREATEST
    update again for each conversation, a tenth of the worker's time under a burst. Sorted: two
    workers updating overlapping conversations take the row locks in the same order.
    """
    now = _db("updated_at", timezone.now())
    rows = [
        _customer_params(conversation_id, by_conversation[conversation_id], now)
        for conversation_id in sorted(by_conversation, key=str)
    ]
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(_customer_sql(connection.vendor), rows)


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
