from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Assistant(models.Model):
    """An automatic responder: a fixed text (``auto``) or an LLM answer (``ai``)."""

    class Type(models.TextChoices):
        AUTO = "auto", _("Fixed reply")
        AI = "ai", _("AI reply")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")
        TRAINING = "training", _("Training")

    class ScheduleMode(models.TextChoices):
        ALWAYS = "always", _("Always")
        INSIDE = "inside", _("Only inside its schedules")
        OUTSIDE = "outside", _("Only outside its schedules")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="assistants"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    type = models.CharField(max_length=8, choices=Type.choices, default=Type.AUTO)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    auto_response = models.TextField(blank=True)
    ai_prompt = models.TextField(blank=True)
    model = models.CharField(max_length=100, blank=True, help_text=_("Empty: OPENAI_MODEL."))
    temperature = models.FloatField(
        default=0.7, validators=[MinValueValidator(0.0), MaxValueValidator(2.0)]
    )
    max_tokens = models.PositiveIntegerField(
        default=500, validators=[MinValueValidator(1), MaxValueValidator(4096)]
    )
    schedule_mode = models.CharField(
        max_length=8, choices=ScheduleMode.choices, default=ScheduleMode.ALWAYS
    )
    # Hand-off: how long after an agent's reply the assistant stays quiet in that conversation.
    handoff_quiet_minutes = models.PositiveIntegerField(default=30)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name
