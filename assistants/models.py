from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Assistant(models.Model):
    """An automatic responder: a fixed text (``auto``) or an LLM answer (``ai``)."""

    class Type(models.TextChoices):
        AUTO = "auto", _("Fixed reply")
        AI = "ai", _("AI reply")

    class Status(models.TextChoices):
        # A context of its own: Spanish agrees in gender ("activo"; a conversation is "activa").
        ACTIVE = "active", pgettext_lazy("assistant status", "Active")
        INACTIVE = "inactive", pgettext_lazy("assistant status", "Inactive")
        TRAINING = "training", _("Training")

    class ScheduleMode(models.TextChoices):
        ALWAYS = "always", _("Always")
        INSIDE = "inside", _("Only inside its schedules")
        OUTSIDE = "outside", _("Only outside its schedules")

    # What admins set through the API (the rest is bookkeeping).
    EDITABLE_FIELDS = (
        "name",
        "description",
        "type",
        "status",
        "auto_response",
        "ai_prompt",
        "model",
        "temperature",
        "max_tokens",
        "schedule_mode",
        "handoff_quiet_minutes",
    )

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
    # Training: when the knowledge last changed and when the retrieval index was last built,
    # so the API can say the index is stale.
    knowledge_changed_at = models.DateTimeField(null=True, blank=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    @property
    def needs_training(self) -> bool:
        if self.knowledge_changed_at is None:
            return False
        return self.trained_at is None or self.knowledge_changed_at > self.trained_at


class Schedule(models.Model):
    """One weekly interval. ``end_time <= start_time`` means it runs past midnight.

    Times are wall-clock times in the workspace timezone (see assistants/schedule.py).
    """

    class Day(models.IntegerChoices):
        SUNDAY = 0, _("Sunday")
        MONDAY = 1, _("Monday")
        TUESDAY = 2, _("Tuesday")
        WEDNESDAY = 3, _("Wednesday")
        THURSDAY = 4, _("Thursday")
        FRIDAY = 5, _("Friday")
        SATURDAY = 6, _("Saturday")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assistant = models.ForeignKey(Assistant, on_delete=models.CASCADE, related_name="schedules")
    day_of_week = models.PositiveSmallIntegerField(choices=Day.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("day_of_week", "start_time", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(day_of_week__gte=0, day_of_week__lte=6), name="schedule_day_0_6"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_day_of_week_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    @property
    def crosses_midnight(self) -> bool:
        return self.end_time <= self.start_time


class KnowledgeDocument(models.Model):
    """What an assistant knows: FAQ entries or longer text. ``train`` indexes it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assistant = models.ForeignKey(Assistant, on_delete=models.CASCADE, related_name="knowledge")
    title = models.CharField(max_length=200)
    content = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return self.title


class KnowledgeChunk(models.Model):
    """The retrieval index: built by training, replaced as a whole by the next training.

    ``search_text`` is title and text folded (lower case, no accents) so a customer who types
    "envios" finds "Envíos". On PostgreSQL ``search_vector`` holds its Spanish and English
    lexemes under a GIN index; elsewhere retrieval scores ``search_text`` in Python.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assistant = models.ForeignKey(Assistant, on_delete=models.CASCADE, related_name="chunks")
    document = models.ForeignKey(KnowledgeDocument, on_delete=models.CASCADE, related_name="chunks")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    content = models.TextField()
    search_text = models.TextField()
    search_vector = SearchVectorField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("document", "position")
        indexes = [GinIndex(fields=["search_vector"], name="knowledge_chunk_search_gin")]

    def __str__(self) -> str:
        return f"{self.title} #{self.position}"


class AIUsage(models.Model):
    """One LLM call (successful or not): who, what for, which model, tokens, cost, latency."""

    class Purpose(models.TextChoices):
        REPLY = "reply", _("Automatic reply")
        ANALYSIS = "analysis", _("Conversation analysis")
        PLAYGROUND = "playground", _("Playground")
        SUGGESTION = "suggestion", _("Suggested reply")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="ai_usage"
    )
    assistant = models.ForeignKey(
        Assistant, on_delete=models.SET_NULL, null=True, blank=True, related_name="usage"
    )
    conversation = models.ForeignKey(
        "conversations.Conversation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ai_usage",
    )
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=100)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    succeeded = models.BooleanField(default=True)
    error_code = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = "AI usage"
        verbose_name_plural = "AI usage"
        indexes = [models.Index(fields=("workspace", "created_at"), name="ai_usage_by_time")]

    def __str__(self) -> str:
        return f"{self.purpose} {self.model} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class AIDailyUsage(models.Model):
    """The quota ledger: requests and tokens of one workspace on one local day.

    Kept beside the AIUsage log so the quota check is one conditional UPDATE (a request is
    reserved only while under the limit, atomically across workers) instead of a SUM.
    """

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    requests = models.PositiveIntegerField(default=0)
    tokens = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("workspace", "day"), name="ai_daily_usage_unique")
        ]

    def __str__(self) -> str:
        return f"{self.workspace_id} {self.day}"


class AutoReplyJob(models.Model):
    """The pending automatic reply to one customer message.

    One row per triggering message (unique), claimed by a conditional UPDATE with a fresh
    token: however many times its task runs, on however many workers, one reply at most.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CLAIMED = "claimed", _("Generating")
        SENT = "sent", _("Sent")
        HANDED_OFF = "handed_off", _("Handed off to agents")
        SKIPPED = "skipped", _("Skipped")
        DISCARDED = "discarded", _("Discarded")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="auto_reply_jobs"
    )
    trigger_message = models.OneToOneField(
        "conversations.Message", on_delete=models.CASCADE, related_name="auto_reply_job"
    )
    assistant = models.ForeignKey(
        Assistant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=40, blank=True)
    due_at = models.DateTimeField()
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    reply = models.ForeignKey(
        "conversations.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=("status", "due_at"), name="auto_reply_job_due")]

    def __str__(self) -> str:
        return f"{self.trigger_message_id} {self.status}"


class ConversationAnalysis(models.Model):
    """Bookkeeping of a conversation's AI analysis: the claim and how far it has read."""

    conversation = models.OneToOneField(
        "conversations.Conversation",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="analysis_state",
    )
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # created_at of the newest message the last stored analysis had read.
    analyzed_through = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    # When the next run is owed: a message (or an agent's reply) sets it to the end of the quiet
    # period; a run's claim clears it. analysis_due_task finds the due rows in one query.
    due_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(due_at__isnull=False), name="analysis_due_idx"
            ),
            # Claims whose run died: taken again once their lease is over.
            models.Index(
                fields=["claimed_until"],
                condition=Q(claim_token__isnull=False),
                name="analysis_claimed_idx",
            ),
        ]

    def __str__(self) -> str:
        return str(self.conversation_id)


class PlaygroundConversation(models.Model):
    """A member's chat in the playground (``POST /api/ai/chat``), kept so they can come back
    to it (``GET /api/ai/conversations``). Private to its member."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playground_chats"
    )
    # The assistant it talks to; none: the model itself.
    assistant = models.ForeignKey(
        Assistant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=120)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-updated_at", "-id")
        indexes = [models.Index(fields=("user", "-updated_at"), name="playground_chat_recent")]

    def __str__(self) -> str:
        return self.title


class PlaygroundMessage(models.Model):
    class Role(models.TextChoices):
        USER = "user", _("Member")
        ASSISTANT = "assistant", _("Assistant")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(
        PlaygroundConversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    content = models.TextField()
    # How the answer was made (ai, knowledge, auto_response, notice); blank for the member's.
    source = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"
