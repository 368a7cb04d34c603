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
