from django.db import migrations, models

from flame.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("accounts", "0006_business_calendar"),
        ("integrations", "0006_templates_whatsapp"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="webhookevent",
            index=models.Index(
                condition=models.Q(("status", "received")),
                fields=["id"],
                name="webhook_event_pending",
            ),
        ),
    ]
