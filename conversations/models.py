from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVector
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from conversations.matching import email_key, phone_key
from conversations.search import Fold, FoldedContactText
from conversations.types import AttachmentKind, Platform

# 'simple' text search: customers mix Spanish and English in one thread, and names, phone
# numbers and product codes must match as typed rather than be stemmed for one language.
SEARCH_CONFIG = "simple"


class Contact(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    avatar_url = models.URLField(max_length=1000, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # What agents write about the customer (the contact panel), never shown to them.
    note = models.TextField(blank=True)
    # Values of the workspace's ContactAttribute keys: {"<key>": value}.
    attributes = models.JSONField(default=dict, blank=True)
    # Folded into another contact (ContactMerge): kept for the undo, out of every list, search
    # and duplicate suggestion; its identities and conversations belong to ``merged_into``.
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)
        indexes = [
            models.Index(fields=("workspace", "created_at")),
            # Substring search of name / phone / e-mail, accents and case ignored (PostgreSQL).
            GinIndex(OpClass(FoldedContactText(), name="gin_trgm_ops"), name="contact_search_trgm"),
            # Duplicate suggestions: the same phone number or e-mail address (matching.py).
            models.Index(models.F("workspace"), phone_key(), name="contact_phone_key"),
            models.Index(models.F("workspace"), email_key(), name="contact_email_key"),
        ]

    def __str__(self) -> str:
        return self.name or self.phone or self.email or str(self.id)


class ContactAttribute(models.Model):
    """A custom field the workspace keeps for every contact (its value lives in
    ``Contact.attributes[key]``)."""

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        LINK = "link", _("Link")
        CHECKBOX = "checkbox", _("Yes / no")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="contact_attributes"
    )
    key = models.SlugField(max_length=40)
    label = models.CharField(max_length=80)
    type = models.CharField(max_length=8, choices=Type.choices, default=Type.TEXT)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("label", "key")
        constraints = [
            models.UniqueConstraint(
                fields=("workspace", "key"), name="contact_attribute_key_unique_per_workspace"
            )
        ]

    def __str__(self) -> str:
        return self.label


class ContactMerge(models.Model):
    """One contact folded into another (``services.contact_merge``) and everything the undo
    needs: which identities and conversations moved, and the kept contact's fields before and
    after. ``undo_until`` is fixed when merging (``CONTACT_MERGE_UNDO_DAYS``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    # The contact kept, and the one folded into it (hidden while the merge stands).
    primary = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="merges_kept")
    secondary = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="merges_folded")
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    undo_until = models.DateTimeField()
    # Ids of the ContactIdentity and Conversation rows the merge moved to the primary.
    identity_ids = models.JSONField(default=list, blank=True)
    conversation_ids = models.JSONField(default=list, blank=True)
    # What the merge wrote on the primary: {"<field>": {"before": ..., "after": ...}} for name,
    # phone, e-mail, avatar and note; {"attributes"|"metadata": {"added": {key: value}}}.
    changes = models.JSONField(default=dict, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=("workspace", "created_at"), name="contact_merge_recent")]
        constraints = [
            # A contact is folded into one other at a time: the last guard against two
            # concurrent merges of the same contact (the services also lock both rows).
            models.UniqueConstraint(
                fields=("secondary",),
                condition=Q(undone_at__isnull=True),
                name="contact_merged_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.secondary_id} → {self.primary_id}"

    @property
    def is_undoable(self) -> bool:
        """Not undone, not past its deadline, and the kept contact not folded into another
        since (that later merge is undone first)."""
        return (
            self.undone_at is None
            and timezone.now() <= self.undo_until
            and self.primary.merged_into_id is None
        )


class ContactDuplicateDismissal(models.Model):
    """Two contacts a member said are not the same person: never suggested together again.
    Stored in id order (``first`` < ``second``), so a pair is one row whichever way it came."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    first = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("first", "second"), name="contact_dismissal_pair"),
            models.CheckConstraint(
                condition=Q(first__lt=models.F("second")), name="contact_dismissal_in_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_id} ≠ {self.second_id}"


class ContactIdentity(models.Model):
    """How a channel knows a contact: (integration, platform user id) → contact."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    integration = models.ForeignKey(
        "integrations.Integration", on_delete=models.CASCADE, related_name="identities"
    )
    # WhatsApp business-scoped user ids may be up to 256 characters.
    external_id = models.CharField(max_length=256)
    # Secondary platform ids (e.g. WhatsApp's BSUID beside wa_id), kept for lookups only.
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("integration", "external_id"), name="identity_unique_per_integration"
            )
        ]

    def __str__(self) -> str:
        return f"{self.integration_id}:{self.external_id}"


class Tag(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="tags"
    )
    name = models.CharField(max_length=50)
    color = models.CharField(max_length=7, default="#6b7280")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(
                "workspace", Lower("name"), name="tag_name_unique_per_workspace"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PENDING = "pending", _("Pending")
        RESOLVED = "resolved", _("Resolved")
        ARCHIVED = "archived", _("Archived")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    OPEN_STATUSES = (Status.ACTIVE, Status.PENDING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own for this and assigned_agent: the inbox indexes lead with them, and
    # every new message rewrites its conversation's row in each index (see Meta).
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="conversations", db_index=False
    )
    integration = models.ForeignKey(
        "integrations.Integration",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="conversations",
    )
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="conversations")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    # The priority and tags the inbox works with: the AI's (ai_priority, ai_tags) until an agent
    # sets them (the *_set_by_agent flags), medium and none before any analysis. Kept by the
    # services, so filters, list badges and dashboard counts read one indexed column.
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.MEDIUM)
    priority_set_by_agent = models.BooleanField(default=False, db_default=False)
    assigned_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_conversations",
        db_index=False,
    )
    assigned_assistant = models.ForeignKey(
        "assistants.Assistant",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="conversations")
    tags_set_by_agent = models.BooleanField(default=False, db_default=False)
    last_message = models.TextField(blank=True)
    # Who wrote the last message (Message.Sender); a survey answer leaves it alone.
    last_message_sender = models.CharField(max_length=10, blank=True)
    # Never null: set at creation, so cursor pagination by last activity has a total order.
    last_message_at = models.DateTimeField(default=timezone.now)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    last_agent_reply_at = models.DateTimeField(null=True, blank=True)
    # The customer's oldest message no agent has answered yet (assistant replies do not count);
    # null once an agent replies or the conversation is closed. An open conversation with it
    # set is "waiting for a human" (the inbox tab and badge, the dashboard's "unreplied").
    waiting_since = models.DateTimeField(null=True, blank=True)
    unread_count = models.PositiveIntegerField(default=0)
    message_count = models.PositiveIntegerField(default=0)
    ai_summary = models.CharField(max_length=200, blank=True)
    ai_priority = models.CharField(max_length=8, choices=Priority.choices, blank=True)
    ai_tags = models.JSONField(default=list, blank=True)
    ai_analyzed_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Snoozed: out of the open list until ``snoozed_until`` (null: until the customer writes);
    # a customer message wakes it either way. The status stays what it was.
    snoozed = models.BooleanField(default=False, db_default=False)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-last_message_at", "-id")
        indexes = [
            models.Index(
                "workspace", "status", models.F("last_message_at").desc(), name="inbox_by_status"
            ),
            models.Index(
                "assigned_agent", "status", models.F("last_message_at").desc(), name="agent_inbox"
            ),
            models.Index("workspace", models.F("last_message_at").desc(), name="inbox_all"),
            models.Index(fields=("workspace", "created_at"), name="conversation_created"),
            models.Index(
                "workspace",
                "priority",
                models.F("last_message_at").desc(),
                name="inbox_by_priority",
            ),
            models.Index(
                "workspace",
                models.F("last_message_at").desc(),
                name="inbox_waiting",
                condition=Q(waiting_since__isnull=False, status__in=("active", "pending")),
            ),
            # The snoozed conversations whose time has come (conversations_wake_snoozed).
            models.Index(
                fields=("snoozed_until",),
                name="conversation_snooze_due",
                condition=Q(snoozed=True, snoozed_until__isnull=False),
            ),
        ]
        constraints = [
            # One open conversation per customer and channel, enforced by the database so two
            # workers ingesting the customer's first messages at once cannot open two.
            models.UniqueConstraint(
                fields=("integration", "contact"),
                condition=Q(status__in=("active", "pending")) & Q(integration__isnull=False),
                name="one_open_conversation_per_contact_and_channel",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact} ({self.platform})"

    @property
    def is_waiting(self) -> bool:
        """Waiting for a human: open, and the customer's last words have no agent answer."""
        return self.waiting_since is not None and self.status in self.OPEN_STATUSES


class Message(models.Model):
    class Sender(models.TextChoices):
        USER = "user", _("Customer")
        ASSISTANT = "assistant", _("Assistant")
        AGENT = "agent", _("Agent")

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        IMAGE = "image", _("Image")
        FILE = "file", _("File")
        AUDIO = "audio", _("Audio")
        VIDEO = "video", _("Video")
        LOCATION = "location", _("Location")
        INTERACTIVE = "interactive", _("Interactive")
        REACTION = "reaction", _("Reaction")
        TEMPLATE = "template", _("Template")
        UNSUPPORTED = "unsupported", _("Unsupported")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        FAILED = "failed", _("Failed")

    # Forward-only order of delivery states; FAILED stands apart and is terminal.
    STATUS_RANK: dict[str, int] = {
        Status.QUEUED: 0,
        Status.SENT: 1,
        Status.DELIVERED: 2,
        Status.READ: 3,
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own for this and workspace: message_thread and message_workspace_time
    # lead with them (see Meta), and every index costs each message's INSERT an entry.
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    # Denormalised from the conversation: scoping and the (integration, external_id) key.
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # Led by the unique (integration, external_id) index (Meta), which also finds a channel's
    # messages; an index of its own would be a second path the dedup lookup may take.
    integration = models.ForeignKey(
        "integrations.Integration",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    sender = models.CharField(max_length=10, choices=Sender.choices)
    # A private note between agents (sender agent): never delivered to the customer, and it
    # moves none of the conversation's counters (unread, waiting, first response, preview).
    private = models.BooleanField(default=False, db_default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assistant = models.ForeignKey(
        "assistants.Assistant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    type = models.CharField(max_length=12, choices=Type.choices, default=Type.TEXT)
    content = models.TextField(blank=True)
    media_url = models.URLField(max_length=2000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENT)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    external_id = models.CharField(max_length=191, null=True, blank=True)
    reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    metadata = models.JSONField(default=dict, blank=True)
    is_edited = models.BooleanField(default=False)
    is_deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=False)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [
            models.Index(fields=("conversation", "created_at"), name="message_thread"),
            models.Index(fields=("workspace", "created_at"), name="message_workspace_time"),
            GinIndex(
                SearchVector(Fold("content"), config=SEARCH_CONFIG), name="message_search_gin"
            ),
        ]
        constraints = [
            # Provider message ids are unique per channel account: the database, not a
            # check-then-insert, is what makes a redelivered webhook a no-op. Unconditional
            # (NULLs are distinct, so messages without an id never clash) so that the one index
            # leading with the channel serves both the dedup lookup and "this channel's
            # messages"; with a second one, stale statistics once sent the lookup through
            # every message of the channel (docs/architecture.md).
            models.UniqueConstraint(
                fields=("integration", "external_id"),
                name="message_external_id_unique_per_integration",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sender}: {self.content[:40]}"

    @property
    def is_outbound(self) -> bool:
        return self.sender != self.Sender.USER


def attachment_path(attachment: Attachment, file_name: str) -> str:
    """Where a file lives in storage: a random name per workspace, never the customer's own
    (which is kept in ``file_name`` and only ever sent back as a header)."""
    extension = "".join(c for c in file_name.rpartition(".")[2][:8] if c.isalnum()).lower()
    suffix = f".{extension}" if "." in file_name and extension else ""
    return f"attachments/{attachment.workspace_id}/{uuid.uuid4().hex}{suffix}"


class Attachment(models.Model):
    """A file of a message: downloaded from the channel (inbound) or uploaded by an agent.

    The bytes live in Django's storage (``STORAGES["default"]``: the filesystem under
    MEDIA_ROOT, or an S3-compatible bucket) and are only served through the members-only view
    or a short-lived signed link, never from a public URL.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Downloading")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")
        # The customer deleted the message: the file and its caption are gone.
        PURGED = "purged", _("Deleted")

    Kind = AttachmentKind

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    # Denormalised from the message: scoping without a join.
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=AttachmentKind.choices)
    file = models.FileField(upload_to=attachment_path, max_length=255, blank=True)
    mime_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    caption = models.TextField(blank=True)
    # Hex SHA-256 of the stored bytes.
    sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Where the channel keeps it: its media id / file_id, or a direct (expiring) URL, and the
    # digest it announced.
    source_id = models.CharField(max_length=256, blank=True)
    source_url = models.URLField(max_length=2000, blank=True)
    source_sha256 = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    downloaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("message", "position")
        indexes = [
            models.Index(
                fields=("status", "created_at"),
                name="attachment_pending",
                condition=Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return self.file_name or f"{self.kind} {self.id}"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY and bool(self.file)


class Event(models.Model):
    """Realtime outbox: written in the transaction of the change, published after commit.

    The id is the global, monotonic sequence clients resume from with ``/api/events?after=``.
    ``conversation_id`` and ``user_id`` are plain columns (not foreign keys) so an event can
    outlive what it describes, e.g. the deletion of a conversation.
    """

    class Audience(models.TextChoices):
        WORKSPACE = "workspace", _("Workspace")
        CONVERSATION = "conversation", _("Conversation")
        USER = "user", _("User")
        # Recorded for outgoing webhooks only (contact and rating changes): never sent to a
        # socket nor listed by /api/events, so agents don't see contacts of conversations
        # hidden from them.
        SYSTEM = "system", _("Integrations only")
        # The workspace's admins only: they see every contact (contact merges).
        ADMINS = "admins", _("Admins")

    # A line of a conversation's history (assigned, resolved, snoozed, ...): kept past the
    # realtime retention, because the thread shows them between its messages.
    ACTIVITY = "conversation:activity"

    id = models.BigAutoField(primary_key=True)
    # No index of its own: event_catch_up leads with it (see Meta).
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=40)
    audience = models.CharField(max_length=12, choices=Audience.choices)
    conversation_id = models.UUIDField(null=True, blank=True)
    # For conversation events: who could see the conversation when the event happened.
    assigned_agent_id = models.UUIDField(null=True, blank=True)
    user_id = models.UUIDField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("id",)
        indexes = [
            models.Index(fields=("workspace", "id"), name="event_catch_up"),
            models.Index(fields=("created_at",), name="event_prune"),
            models.Index(
                fields=("conversation_id", "id"),
                name="event_activity",
                condition=Q(kind="conversation:activity"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.kind}"
