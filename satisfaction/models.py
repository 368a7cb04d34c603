"""Customer satisfaction: the surveys we send when a conversation is resolved, and the ratings.

A survey is the denominator of the response rate; a rating may come from a survey (the
customer's button or digit) or be recorded by an agent (a rating given by phone, say). The
agent and assistant in charge are copied when the survey goes out, so a later reassignment does
not move a rating to someone who never handled the conversation.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MIN_SCORE = 1
MAX_SCORE = 5


class SatisfactionSurvey(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="surveys"
    )
    message = models.ForeignKey(
        "conversations.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assistant = models.ForeignKey(
        "assistants.Assistant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("satisfaction survey")
        indexes = [
            models.Index(fields=("workspace", "sent_at"), name="survey_sent"),
            models.Index("conversation", models.F("sent_at").desc(), name="survey_latest"),
        ]

    def __str__(self) -> str:
        return f"survey {self.pk} ({self.sent_at:%Y-%m-%d})"


class SatisfactionRating(models.Model):
    class Source(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        AGENT = "agent", _("Recorded by an agent")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="ratings"
    )
    survey = models.OneToOneField(
        SatisfactionSurvey,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rating",
    )
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assistant = models.ForeignKey(
        "assistants.Assistant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.CUSTOMER)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("satisfaction rating")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=MIN_SCORE) & Q(score__lte=MAX_SCORE),
                name="rating_score_1_to_5",
            )
        ]
        indexes = [
            models.Index(fields=("workspace", "created_at"), name="rating_created"),
            models.Index(fields=("agent", "created_at"), name="rating_agent"),
            models.Index("conversation", models.F("created_at").desc(), name="rating_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.score}/5"
