"""Every write to accounts: registration, passwords, profiles and workspace membership."""

from __future__ import annotations

import logging
import zoneinfo
from dataclasses import dataclass
from datetime import date, timedelta
from datetime import time as dt_time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Greatest
from django.http import HttpRequest
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import api_keys, audit, calendar, hooks, ical, plans, presence, selectors
from accounts.emails import signup_user_for
from accounts.models import ApiKey, AuditEntry, DateOverride, HolidayFeed, User, Workspace
from accounts.switches import AGENTS_SEE_UNASSIGNED, workspace_switches
from accounts.tasks import send_account_email_task
from accounts.tokens import IssuedRefreshToken, token_digest
from flame import net
from flame.exceptions import (
    AuthenticationError,
    ConflictError,
    InvalidInput,
    PermissionDeniedError,
)
from flame.fields import max_length_of
from flame.ratelimits import Limit, client_ip, count_against, refuse_when_exhausted

logger = logging.getLogger(__name__)

MEMBER_EXISTS = "This workspace already has a member with this e-mail address."
ADDRESS_IN_USE = (
    "This e-mail address already has a FLAME Assistant account. Sign in with it, or ask for an "
    "invitation to another address."
)
INVALID_SIGNUP_TOKEN = "This confirmation link is invalid or has expired."
# Marks a workspace whose registration is not confirmed yet (pruned when the link expires).
SIGNUP_PENDING = "signup_pending"
INVALID_CREDENTIALS = "E-mail or password is incorrect."
INVALID_RESET_TOKEN = "This link is invalid or has expired."
LAST_ADMIN = "A workspace needs at least one active admin."


def _check_password_strength(password: str, user: User) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise InvalidInput("Invalid input.", details={"password": exc.messages}) from exc


def tokens_for(user: User) -> dict[str, str]:
    refresh = IssuedRefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def user_revoke_tokens(*, user: User) -> int:
    """Blacklist every outstanding refresh token of ``user``; return how many were revoked."""
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    revoked = [BlacklistedToken(token=token) for token in outstanding]
    BlacklistedToken.objects.bulk_create(revoked, ignore_conflicts=True)
    return len(revoked)


def _send_on_commit(user: User, kind: str) -> None:
    transaction.on_commit(lambda: send_account_email_task.delay(str(user.pk), kind))


@transaction.atomic
def workspace_register(
    *, email: str, password: str, name: str, workspace_name: str, language: str | None = None
) -> User:
    """Create a workspace and its first admin, pending until the address owner confirms.

    Whether the address already has an account changes only the e-mail its owner receives
    (a confirmation link, or "you already have an account"): the caller's answer, and the work
    done to produce it, are the same, so registration cannot tell who uses FLAME.
    """
    email = email.strip().lower()
    _check_password_strength(password, User(email=email, name=name))
    workspace = Workspace.objects.create(
        name=workspace_name,
        settings={SIGNUP_PENDING: True},
        **({"language": language} if language else {}),
    )
    user = User.objects.create_user(
        email=email,
        password=password,
        name=name,
        role=User.Role.ADMIN,
        workspace=workspace,
        is_pending=True,
    )
    _send_on_commit(user, "signup")
    return user


def _claim_address(user: User, fields: list[str]) -> None:
    """Save ``user`` as the holder of its address; another claimed account wins (400)."""
    user.is_pending = False
    try:
        # The partial unique index on lower(email) settles two confirmations racing.
        with transaction.atomic():
            user.save(update_fields=[*fields, "is_pending", "updated_at"])
    except IntegrityError as exc:
        raise InvalidInput(
            ADDRESS_IN_USE, code="email_taken", details={"email": [ADDRESS_IN_USE]}
        ) from exc


@transaction.atomic
def signup_confirm(*, token: str) -> User:
    """Finish a registration from the e-mailed link (once): the admin can now sign in."""
    user = signup_user_for(token)
    if user is None:
        raise InvalidInput(
            INVALID_SIGNUP_TOKEN, code="invalid_token", details={"token": [INVALID_SIGNUP_TOKEN]}
        )
    _claim_address(user, [])
    workspace = Workspace.objects.select_for_update().get(members=user)
    workspace.settings.pop(SIGNUP_PENDING, None)
    workspace.save(update_fields=["settings", "updated_at"])
    return user


@transaction.atomic
def signups_prune_unconfirmed() -> int:
    """Delete workspaces registered but never confirmed once their link has expired."""
    cutoff = timezone.now() - timedelta(seconds=django_settings.SIGNUP_CONFIRM_SECONDS)
    stale = Workspace.objects.filter(
        **{f"settings__{SIGNUP_PENDING}": True}, created_at__lt=cutoff
    ).exclude(Exists(User.objects.filter(workspace_id=OuterRef("pk"), is_pending=False)))
    stale_ids = list(stale.values_list("pk", flat=True))
    Workspace.objects.filter(pk__in=stale_ids).delete()
    return len(stale_ids)


def _sign_in_limits(request: HttpRequest, email: str) -> list[Limit]:
    # Failures only, per address and (more loosely) per IP: colleagues signing in from one
    # office never lock each other out, one person's typos do not block the office, and a
    # guesser is stopped on either key.
    return [
        Limit("login-email", email, django_settings.RATELIMIT_LOGIN),
        Limit("login-ip", client_ip(request), django_settings.RATELIMIT_LOGIN_IP),
    ]


def user_sign_in(*, request: HttpRequest, email: str, password: str) -> User:
    """``user_authenticate`` behind the sign-in rate limits (API and page share them)."""
    email = email.strip().lower()
    limits = _sign_in_limits(request, email)
    refuse_when_exhausted(request, limits)
    try:
        user = user_authenticate(request=request, email=email, password=password)
    except AuthenticationError:
        count_against(request, limits)
        _audit_failed_sign_in(email)
        raise
    audit.record(
        action=audit.SIGN_IN,
        workspace_id=user.workspace_id,
        actor=user,
        target=("member", user.pk),
    )
    return user


def _audit_failed_sign_in(email: str) -> None:
    """In the workspace of the account the address holds (its admins see the attempts), or
    platform-wide for an address without one."""
    account = User.objects.filter(email__iexact=email, is_pending=False).first()
    audit.record(
        action=audit.SIGN_IN_FAILED,
        workspace_id=account.workspace_id if account is not None else None,
        actor=None,
        target=("member", account.pk) if account is not None else None,
        data={"email": email},
    )


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
    user = User.objects.filter(
        email__iexact=email.strip(), is_active=True, is_pending=False
    ).first()
    if user is None:
        logger.info("Password reset asked for an unknown or inactive address")
        return
    _send_on_commit(user, "password_reset")


@transaction.atomic
def password_reset_confirm(*, token: str, password: str) -> User:
    """Set a password from an e-mailed link; for an invited member this accepts the invitation."""
    user = _user_from_reset_token(token)
    if user is None:
        raise InvalidInput(
            INVALID_RESET_TOKEN, code="invalid_token", details={"token": [INVALID_RESET_TOKEN]}
        )
    _check_password_strength(password, user)
    user.set_password(password)
    if user.is_pending:
        _claim_address(user, ["password"])
    else:
        user.save(update_fields=["password", "updated_at"])
    user_revoke_tokens(user=user)
    return user


@transaction.atomic
def user_invite(*, by: User, email: str, name: str, role: str) -> User:
    """Add a pending member to ``by``'s workspace and e-mail them the invitation.

    Only a member of this workspace with the address is a conflict. An address that has an
    account elsewhere is invited like any other (its owner's e-mail explains why they cannot
    join), so the admin learns nothing about other workspaces. Members always choose their
    own password from the link, which also proves the address is theirs.
    """
    email = email.strip().lower()
    _check_seat_free(workspace_id=by.member_workspace_id)
    try:
        # The unique index on (workspace, lower(email)) settles two identical invitations.
        with transaction.atomic():
            user = User.objects.create_user(
                email=email, name=name, role=role, workspace=by.workspace, is_pending=True
            )
    except IntegrityError as exc:
        raise ConflictError(
            MEMBER_EXISTS, code="email_taken", details={"email": [MEMBER_EXISTS]}
        ) from exc
    _send_on_commit(user, "invitation")
    audit.record(
        action=audit.MEMBER_INVITED,
        workspace_id=user.workspace_id,
        actor=by,
        target=("member", user.pk),
        data={"email": email, "role": role},
    )
    return user


def _check_seat_free(*, workspace_id) -> None:
    """The plan's seats (accounts.plans). The workspace row is locked so two invitations at
    once cannot both take the last seat."""
    workspace = Workspace.objects.select_for_update().get(pk=workspace_id)
    seats = selectors.seat_count(workspace_id=workspace.pk)
    plans.check_count(plan_code=workspace.plan, limit="agents", used=seats)


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
        User.objects.select_for_update().filter(
            workspace_id=by.member_workspace_id, role=User.Role.ADMIN
        )
    )
    losing_admin = user.role == User.Role.ADMIN and (
        (role is not None and role != User.Role.ADMIN) or is_active is False
    )
    if losing_admin:
        _ensure_admin_remains(workspace_id=by.workspace_id, leaving=user)
    if is_active is False and user.pk == by.pk:
        raise ConflictError("You cannot deactivate yourself.", code="self_deactivation")
    if is_active and not user.is_active:
        _check_seat_free(workspace_id=by.member_workspace_id)
    rights_change = (role is not None and role != user.role) or (
        is_active is not None and is_active != user.is_active
    )
    _audit_access_change(by, user, role=role, is_active=is_active)
    changes = {"role": role, "is_active": is_active, "name": name}
    for field, value in changes.items():
        if value is not None:
            setattr(user, field, value)
    user.save(update_fields=[*(f for f, v in changes.items() if v is not None), "updated_at"])
    if is_active is False:
        user_revoke_tokens(user=user)
    if rights_change:
        # Their open sockets still hold the groups of the old role: they must reconnect.
        hooks.member_rights_changed.send(user_ids=[user.pk])
    return user


def _audit_access_change(
    by: User | None, user: User, *, role: str | None, is_active: bool | None
) -> None:
    """The entries for a change of ``user``'s role or active flag (before it is saved)."""
    target = ("member", user.pk)
    if role is not None and role != user.role:
        audit.record(
            action=audit.MEMBER_ROLE_CHANGED,
            workspace_id=user.workspace_id,
            actor=by,
            target=target,
            data={"email": user.email, "from": user.role, "to": role},
        )
    if is_active is not None and is_active != user.is_active:
        audit.record(
            action=audit.MEMBER_REACTIVATED if is_active else audit.MEMBER_DEACTIVATED,
            workspace_id=user.workspace_id,
            actor=by,
            target=target,
            data={"email": user.email},
        )


def user_deactivate(*, by: User, user: User) -> User:
    return user_update_membership(by=by, user=user, is_active=False)


@transaction.atomic
def users_deactivate(*, users) -> int:
    """Platform-operator deactivation (Django admin): no workspace rules, tokens revoked."""
    targets = list(users.filter(is_active=True))
    operator = audit.request_user()
    for user in targets:
        _audit_access_change(operator, user, role=None, is_active=False)
        user.is_active = False
        user.save(update_fields=["is_active", "updated_at"])
        user_revoke_tokens(user=user)
    hooks.member_rights_changed.send(user_ids=[user.pk for user in targets])
    return len(targets)


def _issued_record(raw: str, *, for_update: bool = False) -> OutstandingToken:
    """The record of a refresh token we issued, once its signature, expiry and type check out.

    Nothing is read before the signature is verified, and the record must match the token's
    digest as well as its jti: a forged token naming someone's jti finds nothing.
    """
    try:
        # simplejwt annotates its argument as a Token, but it takes (and here gets) the string.
        token = IssuedRefreshToken(raw)  # type: ignore[arg-type]
    except TokenError as exc:
        raise AuthenticationError(str(exc), code="token_not_valid") from exc
    records = OutstandingToken.objects.filter(jti=token.jti, token=token_digest(raw))
    if for_update:
        records = records.select_for_update(of=("self",))
    record = records.first()
    if record is None:
        raise AuthenticationError("Token is invalid.", code="token_not_valid")
    return record


@transaction.atomic
def token_refresh(*, refresh: str) -> dict[str, str]:
    """Rotate a refresh token: exactly one caller can redeem it, even when two race."""
    record = _issued_record(refresh, for_update=True)
    user = None
    if record.user_id is not None:  # None: the user was deleted since
        user = User.objects.filter(pk=record.user_id, is_active=True).first()
    if user is None:
        raise AuthenticationError("Token is invalid.", code="token_not_valid")
    _, created = BlacklistedToken.objects.get_or_create(token=record)
    if not created:
        raise AuthenticationError("Token is blacklisted.", code="token_not_valid")
    return tokens_for(user)


@transaction.atomic
def token_revoke(*, refresh: str) -> None:
    """Log out: blacklist one refresh token we issued (idempotent once it is revoked)."""
    BlacklistedToken.objects.get_or_create(token=_issued_record(refresh))


def _workspace_input_errors(
    *, name: str | None, timezone: str | None, language: str | None, settings: dict
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if name is not None and not name.strip():
        errors["name"] = ["The name cannot be empty."]
    if name is not None and len(name.strip()) > max_length_of(Workspace, "name"):
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
    agents_saw_unassigned = AGENTS_SEE_UNASSIGNED.is_on(locked)
    before = _workspace_audited_values(locked)
    changes = {"name": name.strip() if name else None, "timezone": timezone, "language": language}
    for field, value in changes.items():
        if value is not None:
            setattr(locked, field, value)
    locked.settings = {**(locked.settings or {}), **settings}
    locked.save()
    _audit_workspace_change(by, locked, before)
    if AGENTS_SEE_UNASSIGNED.is_on(locked) != agents_saw_unassigned:
        # Agents' sockets joined the unassigned queue's group (or not) by the old rule.
        hooks.member_rights_changed.send(
            user_ids=selectors.active_agent_ids(workspace_id=locked.pk)
        )
    workspace.refresh_from_db()
    return locked


def _workspace_audited_values(workspace: Workspace) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": workspace.name,
        "timezone": workspace.timezone,
        "language": workspace.language,
    }
    for key, default in workspace_switches().items():
        values[key] = bool(workspace.setting(key, default))
    return values


def _audit_workspace_change(by: User, workspace: Workspace, before: dict[str, Any]) -> None:
    after = _workspace_audited_values(workspace)
    changed = {
        field: {"from": before[field], "to": value}
        for field, value in after.items()
        if before.get(field) != value
    }
    if changed:
        audit.record(
            action=audit.WORKSPACE_UPDATED,
            workspace_id=workspace.pk,
            actor=by,
            target=("workspace", workspace.pk),
            data={"changes": changed},
        )


def workspace_change_plan(*, workspace_id, plan: str) -> bool:
    """Move a workspace to ``plan`` (billing decides which); True when it changed.

    Its limits apply from the next request on; nothing the workspace has is removed.
    """
    if plan not in plans.CODES:
        raise InvalidInput("Invalid input.", details={"plan": [f"Unknown plan: {plan}."]})
    changed = Workspace.objects.filter(pk=workspace_id).exclude(plan=plan)
    return changed.update(plan=plan, updated_at=timezone.now()) == 1


# --- platform operators (Django admin) -----------------------------------------------------------


def _ensure_operator(user: User) -> None:
    if not (user.is_active and user.is_superuser):
        raise PermissionDeniedError("Only platform operators can do this.")


@transaction.atomic
def user_update_access_by_operator(
    *, operator: User, user: User, role: str | None = None, is_active: bool | None = None
) -> User:
    """A platform operator changes a user's role or active flag (the Django admin change form).

    A workspace's own rules do not bind operators (as in ``users_deactivate``), except that
    nobody deactivates themselves; the effects are those of a workspace admin's change:
    deactivation revokes the user's tokens, and any change closes their sockets, so they
    reconnect with the rights they have now.
    """
    _ensure_operator(operator)
    if is_active is False and user.pk == operator.pk:
        raise ConflictError("You cannot deactivate yourself.", code="self_deactivation")
    wanted = {"role": role, "is_active": is_active}
    changes = {f: v for f, v in wanted.items() if v is not None and v != getattr(user, f)}
    if not changes:
        return user
    _audit_access_change(operator, user, role=role, is_active=is_active)
    for field, value in changes.items():
        setattr(user, field, value)
    user.save(update_fields=[*changes, "updated_at"])
    if changes.get("is_active") is False:
        user_revoke_tokens(user=user)
    hooks.member_rights_changed.send(user_ids=[user.pk])
    return user


# --- presence and availability (accounts/presence.py) --------------------------------------------


def _came_back(user: User, now) -> bool:
    return user.availability == User.Availability.ONLINE and not presence.is_present(user, now)


@transaction.atomic
def presence_socket_opened(*, user_id) -> None:
    """One of the member's sockets connected. Back after being away, and online by choice:
    they can take conversations again (``member_available``)."""
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        return
    now = timezone.now()
    # Counted sockets not heard from lately belonged to a server that died: start again.
    sockets = F("open_sockets") + 1 if presence.has_open_socket(user, now) else Value(1)
    User.objects.filter(pk=user.pk).update(open_sockets=sockets, last_seen_at=now)
    if _came_back(user, now):
        hooks.member_available.send(user_ids=[user.pk])


@transaction.atomic
def presence_socket_closed(*, user_id) -> None:
    User.objects.filter(pk=user_id).update(
        open_sockets=Greatest(F("open_sockets") - 1, Value(0)), last_seen_at=timezone.now()
    )


def presence_socket_alive(*, user_id) -> None:
    """An open socket is still there (its pings, at most once a minute)."""
    User.objects.filter(pk=user_id).update(last_seen_at=timezone.now())


@transaction.atomic
def user_set_availability(*, user: User, availability: str) -> User:
    """The member's own status: online, busy (here, but no new conversations) or offline."""
    if availability not in User.Availability.values:
        choices = ", ".join(User.Availability.values)
        raise InvalidInput(
            "Invalid input.", details={"availability": [f"Choose one of: {choices}."]}
        )
    now = timezone.now()
    becomes_available = (
        availability == User.Availability.ONLINE
        and user.availability != User.Availability.ONLINE
        and presence.is_present(user, now)
    )
    user.availability = availability
    user.save(update_fields=["availability", "updated_at"])
    if becomes_available:
        hooks.member_available.send(user_ids=[user.pk])
    return user


# --- API keys (accounts/api_keys.py) -------------------------------------------------------------

# How often a key's last use is written: a busy key costs one UPDATE a minute, not one a call.
API_KEY_USE_RESOLUTION = timedelta(minutes=1)
API_KEY_USE_AUDIT_EVERY = timedelta(hours=1)


def _ensure_admin_of(by: User, workspace_id) -> None:
    if not by.is_workspace_admin or by.workspace_id != workspace_id:
        raise PermissionDeniedError("Only workspace admins can do this.")


def _api_key_input_errors(*, name: str, scopes: list[str], expires_at, now) -> dict:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["The name cannot be empty."]
    elif len(name.strip()) > max_length_of(ApiKey, "name"):
        errors["name"] = ["The name is too long."]
    unknown = sorted({scope for scope in scopes if scope not in ApiKey.Scope.values})
    if not scopes:
        errors["scopes"] = ["Choose at least one scope."]
    elif unknown:
        errors["scopes"] = [f"Unknown scope: {scope}." for scope in unknown]
    if expires_at is not None and expires_at <= now:
        errors["expires_at"] = ["The expiry must be in the future."]
    return errors


@transaction.atomic
def api_key_create(
    *, by: User, name: str, scopes: list[str], expires_at=None
) -> tuple[ApiKey, str]:
    """A new key of ``by``'s workspace, acting as ``by``; returns it with its secret, which
    is shown this once and never stored (only its digest is)."""
    workspace_id = by.member_workspace_id
    _ensure_admin_of(by, workspace_id)
    now = timezone.now()
    errors = _api_key_input_errors(name=name, scopes=scopes, expires_at=expires_at, now=now)
    if errors:
        raise InvalidInput("Invalid input.", details=errors)
    plans.check_api_access(plan_code=Workspace.objects.get(pk=workspace_id).plan)
    secret = api_keys.new_secret()
    key = ApiKey.objects.create(
        workspace_id=workspace_id,
        created_by=by,
        name=name.strip(),
        scopes=[scope for scope in ApiKey.Scope.values if scope in scopes],
        prefix=api_keys.shown_prefix(secret),
        digest=token_digest(secret),
        expires_at=expires_at,
        created_at=now,
    )
    audit.record(
        action=audit.API_KEY_CREATED,
        workspace_id=workspace_id,
        actor=by,
        target=("api_key", key.pk),
        data=_api_key_summary(key),
    )
    return key, secret


def _api_key_summary(key: ApiKey) -> dict[str, Any]:
    expires_at = key.expires_at.isoformat() if key.expires_at else None
    return {"name": key.name, "prefix": key.prefix, "scopes": key.scopes, "expires_at": expires_at}


@transaction.atomic
def api_key_revoke(*, by: User, key: ApiKey) -> ApiKey:
    """Revoke ``key`` (from the next request on); revoking a revoked key changes nothing."""
    _ensure_admin_of(by, key.workspace_id)
    now = timezone.now()
    revoked = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=by
    )
    key.refresh_from_db()
    if revoked:
        _audit_revocation(by, key)
    return key


def _audit_revocation(by: User | None, key: ApiKey) -> None:
    audit.record(
        action=audit.API_KEY_REVOKED,
        workspace_id=key.workspace_id,
        actor=by,
        target=("api_key", key.pk),
        data=_api_key_summary(key),
    )


def api_key_record_use(*, key: ApiKey, now, method: str = "", path: str = "") -> bool:
    """Note that ``key`` was used; True when this call wrote it. The conditions are in the
    UPDATEs, so concurrent requests of one key write at most once per resolution, and the
    audit log gets the first use of each hour."""
    _audit_use(key, now, method, path)
    if key.last_used_at is not None and now - key.last_used_at < API_KEY_USE_RESOLUTION:
        return False
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - API_KEY_USE_RESOLUTION)
    written = ApiKey.objects.filter(stale, pk=key.pk).update(last_used_at=now) == 1
    if written:
        key.last_used_at = now
    return written


def _audit_use(key: ApiKey, now, method: str, path: str) -> None:
    if key.use_audited_at is not None and now - key.use_audited_at < API_KEY_USE_AUDIT_EVERY:
        return
    stale = Q(use_audited_at__isnull=True) | Q(use_audited_at__lt=now - API_KEY_USE_AUDIT_EVERY)
    with transaction.atomic():
        if ApiKey.objects.filter(stale, pk=key.pk).update(use_audited_at=now) != 1:
            return
        key.use_audited_at = now
        audit.record(
            action=audit.API_KEY_USED,
            workspace_id=key.workspace_id,
            actor=key.created_by,
            target=("api_key", key.pk),
            data={"name": key.name, "method": method, "path": path[:200]},
        )


@transaction.atomic
def api_keys_revoke_by_operator(*, operator: User, keys) -> int:
    """A platform operator revokes keys of any workspace (a leaked key, Django admin)."""
    _ensure_operator(operator)
    now = timezone.now()
    revoked = 0
    for key in keys.filter(revoked_at__isnull=True).select_for_update():
        key.revoked_at, key.revoked_by = now, operator
        key.save(update_fields=["revoked_at", "revoked_by"])
        _audit_revocation(operator, key)
        revoked += 1
    return revoked


def audit_prune(*, now) -> int:
    """Delete entries older than ``AUDIT_LOG_RETENTION_DAYS`` (the only deletion they know)."""
    cutoff = now - timedelta(days=django_settings.AUDIT_LOG_RETENTION_DAYS)
    deleted, _ = AuditEntry.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --- the business calendar: dates with their own hours, and holiday feeds (accounts/calendar.py) -

DATE_TAKEN = "This date already has its own hours: change that entry instead."
FEED_EXISTS = "This workspace already has a feed with this address."
# How far ahead a feed's dates are imported (yearly rules included), from today.
FEED_HORIZON = timedelta(days=548)
FEED_NO_DATES = "The calendar lists no whole-day dates in the next 18 months."
AUDITED_DATES = 100  # dates named in one audit entry; the counts are always exact


def _date_override_errors(
    *, closed: bool, opens: dt_time | None, closes: dt_time | None, name: str
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if closed and (opens is not None or closes is not None):
        errors["closed"] = ["A closed date has no opening hours: leave opens and closes empty."]
    elif not closed and (opens is None or closes is None):
        errors["opens" if opens is None else "closes"] = ["Give both the opening and closing time."]
    elif not closed and opens is not None and closes is not None and opens >= closes:
        errors["closes"] = ["Must be after the opening time (the hours end by midnight)."]
    if len(name.strip()) > max_length_of(DateOverride, "name"):
        errors["name"] = ["The name is too long."]
    return errors


def _date_override_summary(override: DateOverride) -> dict[str, Any]:
    return {
        "date": override.date.isoformat(),
        "closed": override.closed,
        "opens": override.opens.strftime("%H:%M") if override.opens else None,
        "closes": override.closes.strftime("%H:%M") if override.closes else None,
        "name": override.name,
        "source": override.source,
    }


def _take_date(*, workspace_id, day: date, keep: DateOverride | None = None) -> None:
    """Make ``day`` free for a person's entry: a feed's row there gives way (a person's choice
    wins over a feed); a person's row there is a conflict (409)."""
    rows = DateOverride.objects.select_for_update().filter(workspace_id=workspace_id, date=day)
    if keep is not None:
        rows = rows.exclude(pk=keep.pk)
    for row in rows:
        if row.source == DateOverride.Source.MANUAL:
            raise ConflictError(DATE_TAKEN, code="date_taken")
        row.delete()


@transaction.atomic
def date_override_create(
    *,
    by: User,
    day: date,
    closed: bool = True,
    opens: dt_time | None = None,
    closes: dt_time | None = None,
    name: str = "",
) -> DateOverride:
    """A date of ``by``'s workspace closed all day, or open only from ``opens`` to ``closes``
    (admins). It replaces a feed's entry on that date."""
    workspace_id = by.member_workspace_id
    _ensure_admin_of(by, workspace_id)
    errors = _date_override_errors(closed=closed, opens=opens, closes=closes, name=name)
    if errors:
        raise InvalidInput("Invalid input.", details=errors)
    _take_date(workspace_id=workspace_id, day=day)
    override = DateOverride.objects.create(
        workspace_id=workspace_id,
        date=day,
        closed=closed,
        opens=opens,
        closes=closes,
        name=name.strip(),
    )
    audit.record(
        action=audit.HOLIDAY_CREATED,
        workspace_id=workspace_id,
        actor=by,
        target=("holiday", override.pk),
        data=_date_override_summary(override),
    )
    return override


_UNSET: Any = object()  # "not given", where None means "no time"


@transaction.atomic
def date_override_update(
    *,
    by: User,
    override: DateOverride,
    day: date | None = None,
    closed: bool | None = None,
    opens: dt_time | None = _UNSET,
    closes: dt_time | None = _UNSET,
    name: str | None = None,
) -> DateOverride:
    """Change a date's entry (admins); the result is checked whole. A feed's entry changed by a
    person becomes theirs: no refresh touches it again. Closing a date clears its hours."""
    _ensure_admin_of(by, override.workspace_id)
    before = _date_override_summary(override)
    new_closed = override.closed if closed is None else closed
    kept_opens, kept_closes = (None, None) if closed else (override.opens, override.closes)
    new_opens = kept_opens if opens is _UNSET else opens
    new_closes = kept_closes if closes is _UNSET else closes
    new_name = override.name if name is None else name
    errors = _date_override_errors(
        closed=new_closed, opens=new_opens, closes=new_closes, name=new_name
    )
    if errors:
        raise InvalidInput("Invalid input.", details=errors)
    new_date = override.date if day is None else day
    if new_date != override.date:
        _take_date(workspace_id=override.workspace_id, day=new_date, keep=override)
    override.date, override.closed, override.name = new_date, new_closed, new_name.strip()
    override.opens, override.closes = new_opens, new_closes
    override.source, override.feed = DateOverride.Source.MANUAL, None
    override.save()
    after = _date_override_summary(override)
    changed = {
        name: {"from": before[name], "to": value}
        for name, value in after.items()
        if before[name] != value
    }
    if changed:
        audit.record(
            action=audit.HOLIDAY_UPDATED,
            workspace_id=override.workspace_id,
            actor=by,
            target=("holiday", override.pk),
            data={"date": after["date"], "changes": changed},
        )
    return override


@transaction.atomic
def date_override_delete(*, by: User, override: DateOverride) -> None:
    """The date follows the weekly schedules again (a feed's date comes back at its next
    refresh: turn the feed off, or give the date its own hours, to keep it open)."""
    _ensure_admin_of(by, override.workspace_id)
    audit.record(
        action=audit.HOLIDAY_DELETED,
        workspace_id=override.workspace_id,
        actor=by,
        target=("holiday", override.pk),
        data=_date_override_summary(override),
    )
    override.delete()


def _feed_url(url: str) -> str:
    """The address to fetch: ``webcal://`` (how calendars offer subscriptions) is https."""
    url = url.strip()
    if url.lower().startswith("webcal://"):
        url = "https://" + url[len("webcal://") :]
    if len(url) > max_length_of(HolidayFeed, "url"):
        raise InvalidInput("Invalid input.", details={"url": ["The address is too long."]})
    return url


def _check_feed_target(url: str) -> None:
    """Refuse (400 on ``url``) anything but a public http(s) address (SSRF, flame/net.py)."""
    try:
        net.resolve(url, allow_private=django_settings.HOLIDAY_FEEDS_ALLOW_PRIVATE)
    except net.TargetRefused as exc:
        raise InvalidInput("Invalid input.", details={"url": [str(exc)]}) from exc


def _feed_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > max_length_of(HolidayFeed, "name"):
        words = "The name cannot be empty." if not name else "The name is too long."
        raise InvalidInput("Invalid input.", details={"name": [words]})
    return name


def _audit_feed(action: str, feed: HolidayFeed, by: User | None, **data: Any) -> None:
    # The host only: a private calendar's address carries its secret in the path.
    host = urlsplit(feed.url).hostname or ""
    audit.record(
        action=action,
        workspace_id=feed.workspace_id,
        actor=by,
        target=("holiday_feed", feed.pk),
        data={"name": feed.name, "host": host, **data},
    )


def _check_feed_free(*, workspace_id, url: str, feed: HolidayFeed | None = None) -> None:
    others = HolidayFeed.objects.filter(workspace_id=workspace_id, url=url)
    if feed is not None:
        others = others.exclude(pk=feed.pk)
    if others.exists():
        raise ConflictError(FEED_EXISTS, code="feed_exists")


def _refresh_on_commit(feed: HolidayFeed) -> None:
    from accounts.tasks import refresh_holiday_feed_task

    transaction.on_commit(lambda: refresh_holiday_feed_task.delay(str(feed.pk)), robust=True)


@transaction.atomic
def holiday_feed_create(*, by: User, name: str, url: str, enabled: bool = True) -> HolidayFeed:
    """A public-holiday calendar for ``by``'s workspace (admins); fetched once committed."""
    workspace_id = by.member_workspace_id
    _ensure_admin_of(by, workspace_id)
    name, url = _feed_name(name), _feed_url(url)
    _check_feed_free(workspace_id=workspace_id, url=url)
    _check_feed_target(url)
    feed = HolidayFeed.objects.create(
        workspace_id=workspace_id, name=name, url=url, enabled=enabled, created_by=by
    )
    _audit_feed(audit.HOLIDAY_FEED_CREATED, feed, by, enabled=enabled)
    if enabled:
        _refresh_on_commit(feed)
    return feed


@transaction.atomic
def holiday_feed_update(
    *,
    by: User,
    feed: HolidayFeed,
    name: str | None = None,
    url: str | None = None,
    enabled: bool | None = None,
) -> HolidayFeed:
    """Rename, move or turn a feed off or on (admins). Off, its dates from today on are removed
    (the workspace stops following it); on again or moved, it is fetched once committed."""
    _ensure_admin_of(by, feed.workspace_id)
    changes: dict[str, Any] = {}
    if name is not None and name.strip() != feed.name:
        changes["name"] = _feed_name(name)
    if url is not None and url.strip() != feed.url:
        new_url = _feed_url(url)
        _check_feed_free(workspace_id=feed.workspace_id, url=new_url, feed=feed)
        _check_feed_target(new_url)
        changes["url"] = new_url
    if enabled is not None and enabled != feed.enabled:
        changes["enabled"] = enabled
    if not changes:
        return feed
    for attribute, value in changes.items():
        setattr(feed, attribute, value)
    feed.save()
    removed = 0
    if not feed.enabled:
        today = calendar.today(feed.workspace, timezone.now())
        removed, _ = feed.dates.filter(date__gte=today).delete()
    _audit_feed(audit.HOLIDAY_FEED_UPDATED, feed, by, fields=sorted(changes), removed=removed)
    if feed.enabled and ("url" in changes or "enabled" in changes):
        _refresh_on_commit(feed)
    return feed


@transaction.atomic
def holiday_feed_delete(*, by: User, feed: HolidayFeed) -> None:
    """Delete a feed and every date it brought (the dates people set stay)."""
    _ensure_admin_of(by, feed.workspace_id)
    _audit_feed(audit.HOLIDAY_FEED_DELETED, feed, by, dates=feed.dates.count())
    feed.delete()


@dataclass(frozen=True)
class FeedRefresh:
    added: tuple[date, ...] = ()
    removed: tuple[date, ...] = ()
    renamed: int = 0
    error: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.renamed)


class FeedUnusable(Exception):
    """Why a refresh brought no dates (stored on the feed, shown to admins)."""


def _fetch_holidays(feed: HolidayFeed, first: date) -> dict[date, str]:
    """The feed's whole-day dates from ``first`` on, or FeedUnusable saying why not. Network:
    never inside a transaction."""
    limits = net.FetchLimits(
        allow_private=django_settings.HOLIDAY_FEEDS_ALLOW_PRIVATE,
        max_bytes=django_settings.HOLIDAY_FEEDS_MAX_BYTES,
        timeout=django_settings.HOLIDAY_FEEDS_TIMEOUT_SECONDS,
        deadline=2 * django_settings.HOLIDAY_FEEDS_TIMEOUT_SECONDS,
    )
    headers = {"Accept": "text/calendar, */*;q=0.5", "User-Agent": "FLAME Assistant"}
    try:
        body = net.fetch(feed.url, limits, headers)
        found = ical.holidays_in(body, first=first, last=first + FEED_HORIZON)
    except (net.FetchFailed, ical.CalendarUnreadable) as exc:
        raise FeedUnusable(str(exc)) from exc
    if not found:
        raise FeedUnusable(FEED_NO_DATES)
    return found


def holiday_feed_refresh(*, feed: HolidayFeed, by: User | None = None) -> FeedRefresh:
    """Fetch the feed and bring its dates up to date (on demand by an admin, or daily by the
    system). A failure is stored on the feed and changes no date; never raised."""
    if by is not None:
        _ensure_admin_of(by, feed.workspace_id)
        if not feed.enabled:
            raise ConflictError("Turn the feed on before refreshing it.", code="feed_disabled")
    now = timezone.now()
    first = calendar.today(feed.workspace, now)
    try:
        holidays = _fetch_holidays(feed, first)
    except FeedUnusable as exc:
        return _feed_failed(feed, by, now, str(exc)[: max_length_of(HolidayFeed, "last_error")])
    return _feed_apply(feed, by, now, first, holidays)


@transaction.atomic
def _feed_failed(feed: HolidayFeed, by: User | None, now, error: str) -> FeedRefresh:
    HolidayFeed.objects.filter(pk=feed.pk).update(last_fetched_at=now, last_error=error)
    feed.last_fetched_at, feed.last_error = now, error
    if by is not None:
        _audit_feed(audit.HOLIDAY_FEED_REFRESHED, feed, by, error=error)
    return FeedRefresh(error=error)


@transaction.atomic
def _feed_apply(
    feed: HolidayFeed, by: User | None, now, first: date, holidays: dict[date, str]
) -> FeedRefresh:
    """Add the feed's new dates, rename the ones it renamed, remove the ones it no longer lists
    (from ``first`` on: past dates stay as history). A date another source holds (a person, or
    another feed that listed it first) is left alone. The feed's row lock serialises two
    refreshes of one feed."""
    locked = HolidayFeed.objects.select_for_update().filter(pk=feed.pk, enabled=True).first()
    if locked is None:
        return FeedRefresh(error="")  # deleted or turned off while it was being fetched
    held = {
        row.date: row
        for row in DateOverride.objects.filter(workspace_id=feed.workspace_id, date__gte=first)
    }
    added = [day for day in holidays if day not in held]
    DateOverride.objects.bulk_create(
        [
            DateOverride(
                workspace_id=feed.workspace_id,
                date=day,
                closed=True,
                name=holidays[day],
                source=DateOverride.Source.FEED,
                feed_id=feed.pk,
            )
            for day in added
        ],
        ignore_conflicts=True,  # a person's entry committed meanwhile wins
    )
    ours = [row for row in held.values() if row.feed_id == feed.pk]
    renamed = [row for row in ours if row.date in holidays and row.name != holidays[row.date]]
    for row in renamed:
        row.name = holidays[row.date]
    DateOverride.objects.bulk_update(renamed, ["name"])
    removed = tuple(sorted(row.date for row in ours if row.date not in holidays))
    DateOverride.objects.filter(feed_id=feed.pk, date__in=removed).delete()
    HolidayFeed.objects.filter(pk=feed.pk).update(
        last_fetched_at=now, last_succeeded_at=now, last_error=""
    )
    feed.last_fetched_at = feed.last_succeeded_at = now
    feed.last_error = ""
    result = FeedRefresh(added=tuple(sorted(added)), removed=removed, renamed=len(renamed))
    if by is not None or result.changed:
        _audit_feed(
            audit.HOLIDAY_FEED_REFRESHED,
            feed,
            by,
            added=[day.isoformat() for day in result.added[:AUDITED_DATES]],
            removed=[day.isoformat() for day in removed[:AUDITED_DATES]],
            counts={"added": len(added), "removed": len(removed), "renamed": len(renamed)},
        )
    return result


@transaction.atomic
def date_overrides_import(*, by: User, body: bytes) -> tuple[date, ...]:
    """Close, as the admin's own dates, the whole-day dates of an uploaded calendar file from
    today on (up to 18 months ahead), once: a date that already has an entry keeps it. The
    dates added."""
    workspace_id = by.member_workspace_id
    _ensure_admin_of(by, workspace_id)
    if len(body) > django_settings.HOLIDAY_FEEDS_MAX_BYTES:
        limit = django_settings.HOLIDAY_FEEDS_MAX_BYTES
        raise InvalidInput(
            "Invalid input.", details={"file": [f"The file is larger than {limit} bytes."]}
        )
    first = calendar.today(Workspace.objects.get(pk=workspace_id), timezone.now())
    try:
        holidays = ical.holidays_in(body, first=first, last=first + FEED_HORIZON)
    except ical.CalendarUnreadable as exc:
        raise InvalidInput("Invalid input.", details={"file": [str(exc)]}) from exc
    held = set(
        DateOverride.objects.filter(workspace_id=workspace_id, date__in=holidays).values_list(
            "date", flat=True
        )
    )
    added = tuple(day for day in holidays if day not in held)
    DateOverride.objects.bulk_create(
        [DateOverride(workspace_id=workspace_id, date=day, name=holidays[day]) for day in added],
        ignore_conflicts=True,  # an entry committed meanwhile keeps its date
    )
    if added:
        audit.record(
            action=audit.HOLIDAYS_IMPORTED,
            workspace_id=workspace_id,
            actor=by,
            target=("workspace", workspace_id),
            data={
                "added": [day.isoformat() for day in added[:AUDITED_DATES]],
                "counts": {"added": len(added), "kept": len(held)},
            },
        )
    return added


# Refreshed daily: the hourly sweep takes the feeds last fetched longer ago than this.
FEED_REFRESH_EVERY = timedelta(hours=23)


def holiday_feeds_due(*, now) -> list:
    """Claim the enabled feeds due for their daily refresh (a conditional UPDATE each, so two
    sweeps never both enqueue one); their ids."""
    due = Q(last_fetched_at__isnull=True) | Q(last_fetched_at__lt=now - FEED_REFRESH_EVERY)
    claimed = []
    for pk in HolidayFeed.objects.filter(due, enabled=True).values_list("pk", flat=True):
        if HolidayFeed.objects.filter(due, pk=pk).update(last_fetched_at=now) == 1:
            claimed.append(pk)
    return claimed
