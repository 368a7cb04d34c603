"""Effective priority and tags (the AI's until an agent sets them), "waiting for a human", and
accent-insensitive search (PostgreSQL: ``unaccent`` and ``pg_trgm`` behind ``flame_fold``)."""

from datetime import UTC, datetime

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models
from django.db.models import Min, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

import conversations.search
from flame.migration_operations import PostgresOnly

OPEN = ("active", "pending")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

FOLD_FUNCTION = """
CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
-- unaccent() is only STABLE; an IMMUTABLE wrapper with a fixed dictionary may be indexed.
CREATE OR REPLACE FUNCTION flame_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;
"""
DROP_FOLD_FUNCTION = "DROP FUNCTION IF EXISTS flame_fold(text);"


def _backfill_priority(Conversation) -> None:
    # Before this migration only agents wrote ``priority``: anything but the default is theirs.
    Conversation.objects.exclude(priority="medium").update(priority_set_by_agent=True)
    for level in ("low", "high", "urgent"):
        Conversation.objects.filter(priority_set_by_agent=False, ai_priority=level).update(
            priority=level
        )


def _tags_named(Tag, workspace_id, names):
    tags = []
    for name in dict.fromkeys(n.strip() for n in names if isinstance(n, str) and n.strip()):
        tag = Tag.objects.filter(workspace_id=workspace_id, name__iexact=name).first()
        tags.append(tag or Tag.objects.create(workspace_id=workspace_id, name=name[:50]))
    return tags


def _backfill_tags(Conversation, Tag) -> None:
    tagged = Conversation.tags.through.objects.values("conversation_id")
    Conversation.objects.filter(pk__in=tagged).update(tags_set_by_agent=True)
    untagged = Conversation.objects.exclude(pk__in=tagged).exclude(ai_tags=[])
    for conversation in untagged.only("pk", "workspace_id", "ai_tags").iterator(chunk_size=500):
        conversation.tags.set(_tags_named(Tag, conversation.workspace_id, conversation.ai_tags))


def _backfill_waiting(Conversation, Message) -> None:
    """Open conversations wait since the customer's first message after the last agent reply."""
    first_unanswered = (
        Message.objects.filter(
            conversation_id=OuterRef("pk"),
            sender="user",
            created_at__gt=Coalesce(OuterRef("last_agent_reply_at"), Value(EPOCH)),
        )
        .order_by()
        .values("conversation_id")
        .annotate(first=Min("created_at"))
        .values("first")
    )
    Conversation.objects.filter(status__in=OPEN).update(waiting_since=Subquery(first_unanswered))


def backfill(apps, schema_editor) -> None:
    Conversation = apps.get_model("conversations", "Conversation")
    _backfill_priority(Conversation)
    _backfill_tags(Conversation, apps.get_model("conversations", "Tag"))
    _backfill_waiting(Conversation, apps.get_model("conversations", "Message"))


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0004_last_message_sender"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="priority_set_by_agent",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AddField(
            model_name="conversation",
            name="tags_set_by_agent",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AddField(
            model_name="conversation",
            name="waiting_since",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                models.F("workspace"),
                models.F("priority"),
                models.OrderBy(models.F("last_message_at"), descending=True),
                name="inbox_by_priority",
            ),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                models.F("workspace"),
                models.OrderBy(models.F("last_message_at"), descending=True),
                condition=models.Q(("status__in", OPEN), ("waiting_since__isnull", False)),
                name="inbox_waiting",
            ),
        ),
        PostgresOnly(migrations.RunSQL(FOLD_FUNCTION, DROP_FOLD_FUNCTION)),
        PostgresOnly(migrations.RemoveIndex(model_name="message", name="message_search_gin")),
        PostgresOnly(
            migrations.AddIndex(
                model_name="message",
                index=django.contrib.postgres.indexes.GinIndex(
                    django.contrib.postgres.search.SearchVector(
                        conversations.search.Fold("content"), config="simple"
                    ),
                    name="message_search_gin",
                ),
            )
        ),
        PostgresOnly(
            migrations.AddIndex(
                model_name="contact",
                index=django.contrib.postgres.indexes.GinIndex(
                    django.contrib.postgres.indexes.OpClass(
                        conversations.search.FoldedContactText(), name="gin_trgm_ops"
                    ),
                    name="contact_search_trgm",
                ),
            )
        ),
        # Last: on PostgreSQL rows it writes leave deferred constraint checks pending until
        # commit, and no index may be created on those tables after it in this transaction.
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
