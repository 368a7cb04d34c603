# Files of messages (conversations.Attachment) and the template message type.

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import conversations.models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_pending_members"),
        ("conversations", "0005_effective_priority_tags_waiting_folded_search"),
    ]

    operations = [
        migrations.CreateModel(
            name="Attachment",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("position", models.PositiveSmallIntegerField(default=0)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("image", "Image"),
                            ("video", "Video"),
                            ("audio", "Audio"),
                            ("document", "Document"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "file",
                    models.FileField(
                        blank=True,
                        max_length=255,
                        upload_to=conversations.models.attachment_path,
                    ),
                ),
                ("mime_type", models.CharField(blank=True, max_length=100)),
                ("size", models.PositiveBigIntegerField(blank=True, null=True)),
                ("file_name", models.CharField(blank=True, max_length=255)),
                ("caption", models.TextField(blank=True)),
                ("sha256", models.CharField(blank=True, max_length=64)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Downloading"),
                            ("ready", "Ready"),
                            ("failed", "Failed"),
                            ("purged", "Deleted"),
                        ],
                        default="pending",
                        max_length=8,
                    ),
                ),
                ("error_code", models.CharField(blank=True, max_length=64)),
                ("error_message", models.TextField(blank=True)),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("source_id", models.CharField(blank=True, max_length=256)),
                ("source_url", models.URLField(blank=True, max_length=2000)),
                ("source_sha256", models.CharField(blank=True, max_length=128)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("downloaded_at", models.DateTimeField(blank=True, null=True)),
                (
                    "message",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="attachments",
                        to="conversations.message",
                    ),
                ),
                (
                    "workspace",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.workspace",
                    ),
                ),
            ],
            options={
                "ordering": ("message", "position"),
                "indexes": [
                    models.Index(
                        condition=models.Q(("status", "pending")),
                        fields=["status", "created_at"],
                        name="attachment_pending",
                    )
                ],
            },
        ),
        migrations.AlterField(
            model_name="message",
            name="type",
            field=models.CharField(
                choices=[
                    ("text", "Text"),
                    ("image", "Image"),
                    ("file", "File"),
                    ("audio", "Audio"),
                    ("video", "Video"),
                    ("location", "Location"),
                    ("interactive", "Interactive"),
                    ("reaction", "Reaction"),
                    ("template", "Template"),
                    ("unsupported", "Unsupported"),
                ],
                default="text",
                max_length=12,
            ),
        ),
    ]
