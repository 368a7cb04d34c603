"""The tables every message writes keep one index per purpose.

Each index costs every INSERT an entry, and every UPDATE that cannot be HOT one more; on these
tables that is several entries per customer message. A foreign key's own index is dropped where
a composite index already leads with the column, and each foreign key must still lead some index
(deleting or reassigning what it points to finds the rows through it).
"""

from __future__ import annotations

import json

import pytest
from django.db import connection, models

from conversations.models import Conversation, Event, Message
from conversations.tests.factories import ConversationFactory
from integrations.models import WebhookEvent
from integrations.tests.factories import IntegrationFactory

HOT = (Conversation, Message, Event, WebhookEvent)


def _leader(model, index: models.Index) -> str | None:
    """The column an unconditional index leads with (None: partial, or led by an expression)."""
    first = index.fields[0].lstrip("-") if index.fields else index.expressions[0]
    if index.condition is not None:
        return None
    if isinstance(first, models.F):
        first = first.name
    return model._meta.get_field(first).column if isinstance(first, str) else None


def _leading_columns(model) -> set[str]:
    """Columns some unconditional index of ``model``'s state leads with (the key included)."""
    meta = model._meta
    leading = {meta.pk.column}
    leading |= {field.column for field in meta.concrete_fields if field.db_index or field.unique}
    leading |= {_leader(model, index) for index in meta.indexes} - {None}
    for constraint in meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.condition is None:
            leading.add(meta.get_field(constraint.fields[0]).column)
    return leading


def _foreign_key_columns(model) -> set[str]:
    return {f.column for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey)}


def _composite_leaders(model) -> set[str]:
    """Columns an unconditional index of more than one column leads with (a unique
    constraint's included)."""
    leaders = {
        _leader(model, index)
        for index in model._meta.indexes
        if len(index.fields or index.expressions) > 1
    }
    leaders |= {
        model._meta.get_field(constraint.fields[0]).column
        for constraint in model._meta.constraints
        if isinstance(constraint, models.UniqueConstraint)
        and constraint.condition is None
        and len(constraint.fields) > 1
    }
    return leaders - {None}


@pytest.mark.parametrize("model", HOT, ids=lambda model: model.__name__)
def test_every_foreign_key_leads_an_index(model):
    foreign_keys = _foreign_key_columns(model)

    assert foreign_keys - _leading_columns(model) == set()


@pytest.mark.parametrize("model", HOT, ids=lambda model: model.__name__)
def test_no_foreign_key_has_an_index_a_composite_already_gives(model):
    doubled = {
        field.column
        for field in model._meta.concrete_fields
        if isinstance(field, models.ForeignKey) and field.db_index
    } & _composite_leaders(model)

    assert doubled == set()


@pytest.mark.django_db
@pytest.mark.parametrize("model", HOT, ids=lambda model: model.__name__)
def test_the_database_has_the_indexes_the_models_declare(model):
    """The migrations (DropFieldIndex, the concurrent ones) left this backend's tables as the
    models say: every foreign key's column leads an index there, and no other single-column
    index on it remains beside a composite that leads with it."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    indexes = {name: info for name, info in found.items() if info["index"] or info["unique"]}
    leading = {info["columns"][0] for info in indexes.values() if info["columns"]}
    foreign_keys = _foreign_key_columns(model)
    declared = {index.name for index in model._meta.indexes}
    own = {
        info["columns"][0]
        for name, info in indexes.items()
        if len(info["columns"]) == 1 and name not in declared and not info["primary_key"]
    }

    assert foreign_keys <= leading
    assert own & _composite_leaders(model) == set()


def _indexes_in_plan(plan: dict) -> set[str]:
    found = {plan["Index Name"]} if "Index Name" in plan else set()
    for child in plan.get("Plans", []):
        found |= _indexes_in_plan(child)
    return found


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_dedup_lookup_probes_the_unique_index_whatever_the_statistics(workspace):
    """Statistics taken while a channel had few messages once made PostgreSQL answer "which of
    these ids are stored" from the channel's own index, reading every message of the channel.
    The only index that leads with the channel is now the unique one."""
    quiet = IntegrationFactory(workspace=workspace, platform="whatsapp")
    busy = IntegrationFactory(workspace=workspace, platform="telegram")
    _messages(busy, 3000, "old")
    _messages(quiet, 5, "q")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Message._meta.db_table}")
    _messages(quiet, 3000, "new")  # the statistics still say the channel is quiet

    ids = [f"new-{n}" for n in range(0, 3000, 30)]
    lookup = Message.objects.filter(integration=quiet, external_id__in=ids)
    plan = json.loads(lookup.values_list("external_id", flat=True).explain(format="json"))

    assert _indexes_in_plan(plan[0]["Plan"]) == {"message_external_id_unique_per_integration"}
    assert lookup.count() == len(ids)


def _messages(channel, count: int, prefix: str) -> None:
    conversation = ConversationFactory(workspace=channel.workspace, integration=channel)
    Message.objects.bulk_create(
        Message(
            conversation=conversation,
            workspace=channel.workspace,
            integration=channel,
            sender=Message.Sender.USER,
            content="hola",
            external_id=f"{prefix}-{n}",
        )
        for n in range(count)
    )
