"""The satisfaction models moved to the satisfaction app, which adopts their tables: here they
only leave Django's state (nothing is dropped)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_satisfaction"),
        ("satisfaction", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="SatisfactionRating"),
                migrations.DeleteModel(name="SatisfactionSurvey"),
            ]
        )
    ]
