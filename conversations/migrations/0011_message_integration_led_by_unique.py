"""One index leads with the message's channel: the unique (integration, external_id), made
unconditional so that it also finds a channel's messages without an id, and the foreign key's
own index dropped. With both, statistics taken while a channel had few messages led PostgreSQL
to answer "which of these ids are stored" by reading all of the channel's messages."""

import django.db.models.deletion
from django.db import migrations, models

from flame.migration_operations import AlterUniqueConstraintConcurrently, DropFieldIndex


class Migration(migrations.Migration):
    # CREATE and DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("conversations", "0010_drop_covered_indexes"),
        ("integrations", "0008_drop_covered_indexes"),
    ]

    operations = [
        AlterUniqueConstraintConcurrently(
            model_name="message",
            constraint=models.UniqueConstraint(
                fields=("integration", "external_id"),
                name="message_external_id_unique_per_integration",
            ),
        ),
        DropFieldIndex(
            model_name="message",
            name="integration",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="integrations.integration",
            ),
        ),
    ]
