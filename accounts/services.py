"""Every write to accounts: registration, passwords, profiles and workspace membership."""

from __future__ import annotations

import logging
import zoneinfo

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User, Workspace
from accounts.tasks import send_account_email_task
from flame.exceptions import (
    AuthenticationError,
    ConflictError,
    InvalidInput,
    PermissionDeniedError,
)

logger = logging.getLogger(__name__)

EMAIL_TAKEN = "An account with this e-mail address already exists."
INVALID_CREDENTIALS = "E-mail or password is incorrect."
INVALID_RESET_TOKEN = "This link is invalid or has expired."
LAST_ADMIN = "A workspace needs at least one active admin."


def _check_password_strength(password: str, user: User) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise InvalidInput("Invalid input.", details={"password": exc.messages}) from exc


def tokens_for(user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def user_revoke_tokens(*, user: User) -> int:
    """Blacklist every outstanding refresh token of ``user``; return how many were revoked."""
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    revoked = [BlacklistedToken(token=token) for token in outstanding]
    BlacklistedToken.objects.bulk_create(revoked, ignore_conflicts=True)
    return len(revoked)


@transaction.atomic
def workspace_register(
    *, email: str, password: str, name: str, workspace_name: str, language: str | None = None
) -> User:
    """Create a workspace and its first admin."""
    email = email.strip().lower()
    candidate = User(email=email, name=name)
    _check_password_strength(password, candidate)
    workspace = Workspace.objects.create(
        name=workspace_name, **({"language": language} if language else {})
    )
    try:
        # The unique index on lower(email) settles a race between two identical sign-ups.
        with transaction.atomic():
            return User.objects.create_user(
                email=email, password=password, name=name, role=User.Role.ADMIN, workspace=workspace
            )
    except IntegrityError as exc:
        raise ConflictError(
            EMAIL_TAKEN, code="email_taken", details={"email": [EMAIL_TAKEN]}
        ) from exc


def user_authenticate(*, request: HttpRequest | None, email: str, password: str) -> User:
    """Return the active user with these credentials or raise; never says which part failed."""
    user = authenticate(request, username=email.strip().lower(), password=password)
    if user is None:
        raise AuthenticationError(INVALID_CREDENTIALS, code="invalid_credentials")
    return user


@transaction.atomic
def user_update_profile(*, user: User, data: dict) -> User:
    allowed = {"name", "avatar_url", "language"}
    for field, value in data.items():
        if field in allowed:
            setattr(user, field, value)
    user.full_clean(exclude=["password", "workspace", "email"])
    user.save(update_fields=[*sorted(set(data) & allowed), "updated_at"])
    return user


@transaction.atomic
def user_change_password(*, user: User, current_password: str, new_password: str) -> User:
    """Set a new password and revoke every token issued before it."""
    if not user.check_password(current_password):
        raise InvalidInput(
            "Invalid input.", details={"current_password": ["The current password is incorrect."]}
        )
    _check_password_strength(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    user_revoke_tokens(user=user)
    return user


def _user_from_reset_token(token: str) -> User | None:
    uid_part, _, token_part = token.partition(".")
    try:
        user_id = force_str(urlsafe_base64_decode(uid_part))
        user = User.objects.get(pk=user_id, is_active=True)
    except (ValueError, TypeError, ValidationError, User.DoesNotExist):
        return None
    return user if default_token_generator.check_token(user, token_part) else None


def password_reset_request(*, email: str) -> None:
    """E-mail a reset link if an active account exists; callers always answer the same."""
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None:
        logger.info("Password reset asked for an unknown or inactive address")
        return
    transaction.on_commit(lambda: send_account_email_task.delay(str(user.pk), "password_reset"))


@transaction.atomic
def password_reset_confirm(*, token: str, password: str) -> User:
    user = _user_from_reset_token(token)
    if user is None:
        raise InvalidInput(
            INVALID_RESET_TOKEN, code="invalid_token", details={"token": [INVALID_RESET_TOKEN]}
        )
    _check_password_strength(password, user)
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    user_revoke_tokens(user=user)
    return user


@transaction.atomic
def user_invite(*, by: User, email: str, name: str, role: str, password: str | None = None) -> User:
    """Add a member to ``by``'s workspace; without a password they get an invitation e-mail."""
    email = email.strip().lower()
    if password:
        _check_password_strength(password, User(email=email, name=name))
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email, password=password, name=name, role=role, workspace=by.workspace
            )
    except IntegrityError as exc:
        raise ConflictError(
            EMAIL_TAKEN, code="email_taken", details={"email": [EMAIL_TAKEN]}
        ) from exc
    if not password:
        transaction.on_commit(lambda: send_account_email_task.delay(str(user.pk), "invitation"))
    return user


def _ensure_admin_remains(*, workspace_id, leaving: User) -> None:
    others = User.objects.filter(
        workspace_id=workspace_id, role=User.Role.ADMIN, is_active=True
    ).exclude(pk=leaving.pk)
    if not others.exists():
        raise ConflictError(LAST_ADMIN, code="last_admin")


@transaction.atomic
def user_update_membership(
    *,
    by: User,
    user: User,
    role: str | None = None,
    is_active: bool | None = None,
    name: str | None = None,
) -> User:
    """Change a member's role, name or active flag; a workspace always keeps an admin."""
    # Lock the workspace's admins so two concurrent demotions cannot both pass the check.
    list(
        User.objects.select_for_update().filter(workspace_id=by.workspace_id, role=User.Role.ADMIN)
    )
    losing_admin = user.role == User.Role.ADMIN and (
        (role is not None and role != User.Role.ADMIN) or is_active is False
    )
    if losing_admin:
        _ensure_admin_remains(workspace_id=by.workspace_id, leaving=user)
    if is_active is False and user.pk == by.pk:
        raise ConflictError("You cannot deactivate yourself.", code="self_deactivation")
    changes = {"role": role, "is_active": is_active, "name": name}
    for field, value in changes.items():
        if value is not None:
            setattr(user, field, value)
    user.save(update_fields=[*(f for f, v in changes.items() if v is not None), "updated_at"])
    if is_active is False:
        user_revoke_tokens(user=user)
    return user


def user_deactivate(*, by: User, user: User) -> User:
    return user_update_membership(by=by, user=user, is_active=False)


@transaction.atomic
def users_deactivate(*, users) -> int:
    """Platform-operator deactivation (Django admin): no workspace rules, tokens revoked."""
    targets = list(users.filter(is_active=True))
    for user in targets:
        user.is_active = False
        user.save(update_fields=["is_active", "updated_at"])
        user_revoke_tokens(user=user)
    return len(targets)


def _jti(token: RefreshToken) -> str:
    from rest_framework_simplejwt.settings import api_settings

    return token[api_settings.JTI_CLAIM]


@transaction.atomic
def token_refresh(*, refresh: str) -> dict[str, str]:
    """Rotate a refresh token: exactly one caller can redeem it, even when two race."""
    from rest_framework_simplejwt.exceptions import TokenError

    try:
        token = RefreshToken(refresh)
    except TokenError as exc:
        raise AuthenticationError(str(exc), code="token_not_valid") from exc
    outstanding = (
        OutstandingToken.objects.select_for_update(of=("self",)).filter(jti=_jti(token)).first()
    )
    user = User.objects.filter(pk=token.get("user_id"), is_active=True).first()
    if outstanding is None or user is None:
        raise AuthenticationError("Token is invalid.", code="token_not_valid")
    _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    if not created:
        raise AuthenticationError("Token is blacklisted.", code="token_not_valid")
    return tokens_for(user)


def token_revoke(*, refresh: str) -> None:
    """Log out: blacklist one refresh token (idempotent for a token already revoked)."""
    from rest_framework_simplejwt.exceptions import TokenError

    try:
        token = RefreshToken(refresh, verify=False)
        token.check_exp()
        token.verify()
    except TokenError as exc:
        if "blacklisted" in str(exc).lower():
            return
        raise AuthenticationError(str(exc), code="token_not_valid") from exc
    token.blacklist()


def workspace_switches() -> dict[str, bool]:
    """Each boolean workspace setting an admin may change, with the value it has when unset.

    The apps that read a switch own its name; they are imported here, late, because they
    import accounts.
    """
    from analytics.csat import SURVEY_SETTING as CSAT_SURVEY
    from assistants.analysis import WORKSPACE_SWITCH as AI_ANALYSIS
    from conversations.selectors import AGENTS_SEE_UNASSIGNED

    return {AGENTS_SEE_UNASSIGNED: False, AI_ANALYSIS: True, CSAT_SURVEY: False}


def _workspace_input_errors(
    *, name: str | None, timezone: str | None, language: str | None, settings: dict
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if name is not None and not name.strip():
        errors["name"] = ["The name cannot be empty."]
    if name is not None and len(name.strip()) > Workspace._meta.get_field("name").max_length:
        errors["name"] = ["The name is too long."]
    if timezone is not None and timezone not in zoneinfo.available_timezones():
        errors["timezone"] = [f"{timezone} is not a known IANA time zone."]
    if language is not None and language not in Workspace.Language.values:
        errors["language"] = [f"Choose one of: {', '.join(Workspace.Language.values)}."]
    switches = workspace_switches()
    unknown = sorted(key for key in settings if key not in switches)
    not_boolean = sorted(key for key, value in settings.items() if not isinstance(value, bool))
    if unknown or not_boolean:
        errors["settings"] = [f"Unknown setting: {key}." for key in unknown] + [
            f"{key} must be true or false." for key in not_boolean if key in switches
        ]
    return errors


@transaction.atomic
def workspace_update(
    *,
    by: User,
    workspace: Workspace,
    name: str | None = None,
    timezone: str | None = None,
    language: str | None = None,
    settings: dict | None = None,
) -> Workspace:
    """Change a workspace's name, timezone, language or boolean switches (admins only).

    ``settings`` is merged into the stored JSON, so keys written by other code survive; the row
    is locked so two saves cannot lose each other's keys. Nothing changes if any value is bad.
    """
    if not by.is_workspace_admin or by.workspace_id != workspace.pk:
        raise PermissionDeniedError("Only workspace admins can do this.")
    settings = settings or {}
    errors = _workspace_input_errors(
        name=name, timezone=timezone, language=language, settings=settings
    )
    if errors:
        raise InvalidInput("Invalid input.", details=errors)
    locked = Workspace.objects.select_for_update().get(pk=workspace.pk)
    changes = {"name": name.strip() if name else None, "timezone": timezone, "language": language}
    for field, value in changes.items():
        if value is not None:
            setattr(locked, field, value)
    locked.settings = {**(locked.settings or {}), **settings}
    locked.save()
    workspace.refresh_from_db()
    return locked
