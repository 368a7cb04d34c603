"""Rename the adopted tables after their new app and move their content types (permissions and
admin history follow the models)."""

from django.db import migrations

MODELS = ("satisfactionsurvey", "satisfactionrating")


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label="satisfaction", model=model).exists():
            ContentType.objects.filter(app_label="analytics", model=model).update(
                app_label="satisfaction"
            )


def restore_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="satisfaction", model__in=MODELS).update(
        app_label="analytics"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("satisfaction", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelTable(name="satisfactionsurvey", table=None),
        migrations.AlterModelTable(name="satisfactionrating", table=None),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
