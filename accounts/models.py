from __future__ import annotations

import uuid
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone as django_timezone
from django.utils.translation import gettext_lazy as _


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not a known IANA time zone."), params={"value": value}
        )


def default_timezone() -> str:
    return settings.DEFAULT_WORKSPACE_TIMEZONE


class Workspace(models.Model):
    """A business: everything it owns hangs off this row."""

    class Language(models.TextChoices):
        SPANISH = "es", "Español"
        ENGLISH = "en", "English"

    class Plan(models.TextChoices):
        FREE = "free", _("Free")
        STARTER = "starter", _("Starter")
        PRO = "pro", _("Pro")
        BUSINESS = "business", _("Business")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    timezone = models.CharField(
        max_length=64, default=default_timezone, validators=[validate_timezone]
    )
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.SPANISH)
    plan = models.CharField(max_length=16, choices=Plan.choices, default=Plan.FREE)
    settings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def setting(self, name: str, default=None):
        return (self.settings or {}).get(name, default)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username: str) -> User:
        # Only a claimed account owns its address (unique on lower(email) among them); pending
        # invitations and sign-ups with the same address never sign in.
        return self.get(email__iexact=username, is_pending=False)

    def _create(self, email: str, password: str | None, **fields) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        """A platform operator: Django admin access, no workspace of its own required."""
        fields["is_staff"] = True
        fields["is_superuser"] = True
        fields.setdefault("name", email.split("@")[0])
        return self._create(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in. The e-mail address is the login (case-insensitive)."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        AGENT = "agent", _("Agent")

    class Availability(models.TextChoices):
        """What the member says about themselves; offline anyway once they have been away
        for a few minutes (``accounts.presence``)."""

        ONLINE = "online", _("Online")
        BUSY = "busy", _("Busy")
        OFFLINE = "offline", _("Offline")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Unique among claimed accounts (see Meta), not globally: an invitation or a sign-up may
    # name an address that already has an account, so that answering it reveals nothing.
    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=150)
    avatar_url = models.URLField(max_length=500, blank=True)
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.AGENT)
    # Null only for platform operators (superusers) who belong to no business.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="members", null=True, blank=True
    )
    language = models.CharField(
        max_length=2,
        choices=Workspace.Language.choices,
        blank=True,
        help_text=_("Interface language; empty follows the workspace."),
    )
    is_active = models.BooleanField(default=True)
    is_pending = models.BooleanField(
        default=False,
        help_text=_(
            "Invited or signed up, and the address's owner has not confirmed yet: cannot sign "
            "in and does not hold the address."
        ),
    )
    is_staff = models.BooleanField(default=False)
    availability = models.CharField(
        max_length=8,
        choices=Availability.choices,
        default=Availability.ONLINE,
        db_default=Availability.ONLINE,
    )
    # Presence: sockets open now (by the inbox's socket) and when one was last heard from. A
    # crashed server never closes its sockets, so a count is only believed while recent.
    open_sockets = models.PositiveIntegerField(default=0, db_default=0)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ("email",)
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=Q(is_pending=False),
                name="accounts_user_email_ci_unique",
                violation_error_message=_("An account with this e-mail address already exists."),
            ),
            models.UniqueConstraint(
                "workspace",
                Lower("email"),
                name="accounts_user_email_unique_per_workspace",
                violation_error_message=_("This workspace already has a member with this address."),
            ),
        ]
        indexes = [models.Index(fields=("workspace", "role", "is_active"))]

    def __str__(self) -> str:
        return self.email

    @property
    def member_workspace_id(self) -> uuid.UUID:
        """The workspace this member acts in. Every user but a platform operator has one;
        writing for an operator without one is a bug, reported as such rather than as a
        database error."""
        if self.workspace_id is None:
            raise ValueError(f"{self.email} belongs to no workspace")
        return self.workspace_id

    @property
    def is_workspace_admin(self) -> bool:
        return self.is_active and self.role == self.Role.ADMIN and self.workspace_id is not None

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email


class ApiKey(models.Model):
    """A workspace's key for other systems (``Authorization: Bearer flm_…`` or ``X-Api-Key``).

    Only a SHA-256 digest of the secret is stored (``accounts.tokens.token_digest``), with its
    first characters (``prefix``) so people can tell keys apart. A key acts as the admin who
    created it, never beyond its ``scopes`` (``accounts.api_keys``), and only while that admin
    is still an active admin of the workspace; see docs/architecture.md.
    """

    class Scope(models.TextChoices):
        READ = "read", _("Read conversations, contacts, reports and settings")
        CONVERSATIONS_WRITE = "conversations:write", _("Write conversations and messages")
        CONTACTS_WRITE = "contacts:write", _("Write contacts")
        AUDIT_READ = "audit:read", _("Read the audit log")
        WEBHOOKS_ADMIN = "webhooks:admin", _("Manage outgoing webhooks")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_keys")
    created_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    scopes = models.JSONField(default=list)
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=80, unique=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Written at most once a minute per key (``services.api_key_record_use``), not per request.
    last_used_at = models.DateTimeField(null=True, blank=True)
    # When its use last went into the audit log: the first use in each hour does.
    use_audited_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=("workspace", "-created_at"))]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_expired(self, now) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def state(self, now) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.is_expired(now) else "active"


class AuditEntry(models.Model):
    """Who did what, when: one row per action, written by the service that acts, in its
    transaction (``accounts.audit``). Rows are only ever added, and pruned after
    ``AUDIT_LOG_RETENTION_DAYS``; nothing updates them. ``data`` summarises the change (field
    names, old and new values of settings) and never holds a secret or a credential's value.
    Entries without a workspace (a failed sign-in for an unknown address, an operator's
    action) are platform-wide: staff see them in Django admin.
    """

    class ActorType(models.TextChoices):
        USER = "user", _("Person")
        API_KEY = "api_key", _("API key")
        SYSTEM = "system", _("System")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    actor_type = models.CharField(max_length=8, choices=ActorType.choices)
    actor_user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who it was when it happened (an e-mail, a key's name): kept after they are gone.
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=48)
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=("workspace", "-created_at", "-id")),
            models.Index(fields=("workspace", "action", "-created_at")),
            models.Index(fields=("created_at",)),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_label or self.actor_type}"


class HolidayFeed(models.Model):
    """A public-holiday calendar (an iCal address) whose whole-day events close the workspace
    on those dates (``DateOverride`` rows of source ``feed``), refreshed daily and on demand
    (``accounts.services.holiday_feed_refresh``; docs/schedules.md)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="holiday_feeds")
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    enabled = models.BooleanField(default=True)
    # The last try, whatever came of it; the last that brought dates; why the last one failed.
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_succeeded_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name", "id")
        constraints = [
            models.UniqueConstraint(
                "workspace",
                "url",
                name="accounts_holiday_feed_url_unique",
                violation_error_message=_("This workspace already has a feed with this address."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DateOverride(models.Model):
    """One local date (in the workspace's timezone) that does not follow the weekly schedules:
    closed all day, or open only from ``opens`` to ``closes`` (``accounts.calendar``).

    One row per workspace and date: a person's row (``manual``) replaces a feed's on that date
    and no feed refresh touches it again; a feed's rows are the feed's to add and remove.
    """

    class Source(models.TextChoices):
        MANUAL = "manual", _("Set by hand")
        FEED = "feed", _("Holiday feed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="date_overrides"
    )
    date = models.DateField()
    closed = models.BooleanField(default=True)
    opens = models.TimeField(null=True, blank=True)
    closes = models.TimeField(null=True, blank=True)
    name = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MANUAL)
    feed = models.ForeignKey(
        HolidayFeed, on_delete=models.CASCADE, null=True, blank=True, related_name="dates"
    )
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("date",)
        constraints = [
            models.UniqueConstraint(
                "workspace",
                "date",
                name="accounts_date_override_unique",
                violation_error_message=_("This date already has its own hours."),
            ),
            # Closed: no hours. Open: both hours, within the date (opens < closes).
            models.CheckConstraint(
                condition=Q(closed=True, opens__isnull=True, closes__isnull=True)
                | Q(closed=False, opens__isnull=False, closes__gt=models.F("opens")),
                name="accounts_date_override_hours",
            ),
            models.CheckConstraint(
                condition=Q(source="manual", feed__isnull=True)
                | Q(source="feed", feed__isnull=False),
                name="accounts_date_override_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()
