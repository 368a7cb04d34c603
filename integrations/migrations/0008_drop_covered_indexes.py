"""The queue's own indexes cover only the events still queued, and the workspace's own index
goes (webhook_event_stats leads with it): each event is written three times and no write is HOT."""

import django.db.models.deletion
from django.db import migrations, models

from flame.migration_operations import AddIndexConcurrently, DropFieldIndex, RemoveIndexConcurrently


class Migration(migrations.Migration):
    # CREATE and DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("accounts", "0006_business_calendar"),
        ("integrations", "0007_webhook_event_pending"),
    ]

    # The new indexes first: the sweep is never without one.
    operations = [
        AddIndexConcurrently(
            model_name="webhookevent",
            index=models.Index(
                condition=models.Q(("status__in", ("received", "processing"))),
                fields=["status", "received_at"],
                name="webhook_event_waiting",
            ),
        ),
        AddIndexConcurrently(
            model_name="webhookevent",
            index=models.Index(
                condition=models.Q(("status", "processing")),
                fields=["claim_token"],
                name="webhook_event_claim",
            ),
        ),
        RemoveIndexConcurrently(
            model_name="webhookevent",
            name="webhook_event_sweep",
        ),
        DropFieldIndex(
            model_name="webhookevent",
            name="claim_token",
            field=models.UUIDField(blank=True, null=True),
        ),
        DropFieldIndex(
            model_name="webhookevent",
            name="workspace",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="accounts.workspace",
            ),
        ),
    ]
