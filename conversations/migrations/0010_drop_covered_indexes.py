"""Drop the foreign keys' own indexes that a composite index already leads with: each cost
every new message an index entry (its INSERT, its conversation's counters, its events)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from flame.migration_operations import DropFieldIndex


class Migration(migrations.Migration):
    # CREATE and DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("accounts", "0006_business_calendar"),
        ("conversations", "0009_alter_event_audience"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        DropFieldIndex(
            model_name="conversation",
            name="assigned_agent",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="assigned_conversations",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        DropFieldIndex(
            model_name="conversation",
            name="workspace",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="conversations",
                to="accounts.workspace",
            ),
        ),
        DropFieldIndex(
            model_name="event",
            name="workspace",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="accounts.workspace",
            ),
        ),
        DropFieldIndex(
            model_name="message",
            name="conversation",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="messages",
                to="conversations.conversation",
            ),
        ),
        DropFieldIndex(
            model_name="message",
            name="workspace",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="accounts.workspace",
            ),
        ),
    ]
