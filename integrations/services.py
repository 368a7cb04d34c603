"""Every write to integrations: create, update, connect, disconnect, delete, key rotation.

Calls to platform APIs (connect, disconnect) happen outside database transactions; their
results are saved afterwards in a short transaction of their own.
"""

from __future__ import annotations

import logging
import secrets

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from accounts import audit, plans
from accounts.models import User, Workspace
from flame.exceptions import ConflictError, InvalidInput
from flame.fields import max_length_of
from integrations import selectors
from integrations.commands import bot_commands_register
from integrations.models import Integration
from integrations.providers import base, provider_client, provider_spec
from integrations.signatures import signer_cache

logger = logging.getLogger(__name__)

ACCOUNT_TAKEN = "This channel account is already connected to a workspace."


def _missing_credentials(platform: str, credentials: dict) -> list[str]:
    spec = provider_spec(platform)
    return [
        name for name in spec.required_credentials if not str(credentials.get(name, "")).strip()
    ]


def _clean_credentials(platform: str, credentials: dict) -> dict:
    spec = provider_spec(platform)
    allowed = set(spec.required_credentials) | set(spec.optional_credentials)
    unknown = sorted(set(credentials) - allowed)
    if unknown:
        raise InvalidInput(
            "Invalid input.", details={"credentials": [f"Unknown field(s): {', '.join(unknown)}."]}
        )
    cleaned = {name: str(value).strip() for name, value in credentials.items()}
    missing = _missing_credentials(platform, cleaned)
    if missing:
        raise InvalidInput(
            "Invalid input.", details={"credentials": [f"Missing: {', '.join(missing)}."]}
        )
    if cleaned.get("verify_token"):
        _check_fits("verify_token", cleaned["verify_token"], "verify_token")
    for name in provider_spec(platform).generated_credentials:
        if not cleaned.get(name):
            cleaned[name] = secrets.token_urlsafe(32)
    return cleaned


def _account_id(platform: str, credentials: dict, fallback: str) -> str:
    spec = provider_spec(platform)
    source = spec.account_id_credential
    if source is None:
        return fallback
    account_id = spec.account_id_of(credentials[source])
    _check_fits(source, account_id, "external_account_id")
    return account_id


def _check_fits(credential: str, value: str, column: str) -> None:
    """Credentials copied into a column of their own must fit it: a 400 naming the credential,
    not a database error. Django's own message, so the settings pages show it translated."""
    try:
        MaxLengthValidator(max_length_of(Integration, column))(value)
    except ValidationError as exc:
        raise InvalidInput("Invalid input.", details={credential: exc.messages}) from exc


def _save(integration: Integration) -> Integration:
    try:
        with transaction.atomic():
            integration.save()
    except IntegrityError as exc:
        raise ConflictError(ACCOUNT_TAKEN, code="account_taken") from exc
    signer_cache.clear()
    # Again once committed: a webhook verified meanwhile in this process may have cached the
    # rows as they were before this transaction.
    transaction.on_commit(signer_cache.clear)
    return integration


def _check_channel_room(workspace_id) -> None:
    """The plan's channel limit (accounts.plans). The workspace row is locked so two creations
    at once cannot both take the last channel."""
    workspace = Workspace.objects.select_for_update().get(pk=workspace_id)
    used = selectors.plan_channel_count(workspace_id=workspace.pk)
    plans.check_count(plan_code=workspace.plan, limit="channels", used=used)


@transaction.atomic
def integration_create(
    *, by: User, platform: str, name: str, credentials: dict, default_assistant=None
) -> Integration:
    cleaned = _clean_credentials(platform, credentials)
    if not provider_spec(platform).simulated:
        _check_channel_room(by.member_workspace_id)
    integration = Integration(
        workspace_id=by.member_workspace_id,
        platform=platform,
        name=name,
        credentials=cleaned,
        default_assistant=default_assistant,
    )
    if cleaned.get("verify_token"):
        integration.verify_token = cleaned["verify_token"]
    integration.external_account_id = _account_id(platform, cleaned, f"sandbox-{integration.pk}")
    if provider_spec(platform).simulated:
        integration.status = Integration.Status.ACTIVE
    saved = _save(integration)
    _audit(audit.CHANNEL_CREATED, saved, by=by, fields=sorted(cleaned))
    return saved


def _audit(action: str, integration: Integration, *, by: User | None, **data) -> None:
    """Credentials appear by their field names only, never by value."""
    audit.record(
        action=action,
        workspace_id=integration.workspace_id,
        actor=by,
        target=("channel", integration.pk),
        data={"name": integration.name, "platform": integration.platform, **data},
    )


def _audit_update(integration: Integration, before: dict, credentials: dict | None) -> None:
    by = audit.request_user()
    settings_changed = sorted(
        field
        for field in ("name", "default_assistant")
        if field in before and before[field] != getattr(integration, field)
    )
    if settings_changed:
        _audit(audit.CHANNEL_UPDATED, integration, by=by, fields=settings_changed)
    if credentials is not None:
        old, new = before["credentials"] or {}, integration.credentials or {}
        names = sorted(name for name in {*old, *new} if old.get(name) != new.get(name))
        if names:
            _audit(audit.CHANNEL_CREDENTIALS_CHANGED, integration, by=by, fields=names)


_UNSET = object()


def _credential_changes(integration: Integration, credentials: dict) -> dict:
    """The fields new credentials change (merged: send only what changes); raises before any
    is assigned."""
    merged = _clean_credentials(integration.platform, {**integration.credentials, **credentials})
    changes = {
        "credentials": merged,
        "external_account_id": _account_id(
            integration.platform, merged, integration.external_account_id
        ),
    }
    if merged.get("verify_token"):
        changes["verify_token"] = merged["verify_token"]
    if not provider_spec(integration.platform).simulated:
        # New credentials have not been checked against the platform yet.
        changes["status"] = Integration.Status.INACTIVE
    return changes


@transaction.atomic
def integration_update(
    *,
    integration: Integration,
    name: str | None = None,
    credentials: dict | None = None,
    default_assistant=_UNSET,
) -> Integration:
    """Change name, default assistant or credentials (merged: send only what changes).

    A refused change (bad credentials, an account connected elsewhere) leaves ``integration``
    as it was, in the database and in memory.
    """
    changes = _credential_changes(integration, credentials) if credentials is not None else {}
    if name is not None:
        changes["name"] = name
    if default_assistant is not _UNSET:
        changes["default_assistant"] = default_assistant
    before = {field: getattr(integration, field) for field in changes}
    for field, value in changes.items():
        setattr(integration, field, value)
    try:
        saved = _save(integration)
    except Exception:
        for field, value in before.items():
            setattr(integration, field, value)
        raise
    _audit_update(saved, before, credentials)
    return saved


def _record_connection(
    integration: Integration,
    *,
    status: str,
    error: str = "",
    account_id: str = "",
    action: str = "",
) -> Integration:
    with transaction.atomic():
        fields = {"status": status, "last_error": error, "last_sync": timezone.now()}
        if account_id:
            fields["external_account_id"] = account_id
        Integration.objects.filter(pk=integration.pk).update(**fields, updated_at=timezone.now())
        if action:
            _audit(action, integration, by=audit.request_user(), status=status)
    integration.refresh_from_db()
    return integration


def integration_connect(*, integration: Integration) -> Integration:
    """Check the credentials with the platform (and register the webhook where it can).

    The outcome is saved either way: ``active``, or ``error`` with the platform's message, which
    the caller then reports. Raises ConflictError with ``connect_failed`` on refusal.
    """
    client = provider_client(integration.platform)
    if client is None:
        raise ConflictError("This channel cannot be connected here.", code="channel_unavailable")
    try:
        result = client.connect(integration=integration)
    except (base.ConnectError, base.SendError) as exc:
        _record_connection(integration, status=Integration.Status.ERROR, error=str(exc))
        raise ConflictError(
            "The platform refused the connection.",
            code="connect_failed",
            details={"provider_message": str(exc)},
        ) from exc
    connected = _record_connection(
        integration,
        status=Integration.Status.ACTIVE,
        account_id=result.external_account_id,
        action=audit.CHANNEL_CONNECTED,
    )
    # A bot connected (again) gets the workspace's command menu; a refusal leaves it without.
    bot_commands_register(integration=connected)
    return connected


def integration_disconnect(*, integration: Integration) -> Integration:
    client = provider_client(integration.platform)
    error = ""
    if client is not None:
        try:
            client.disconnect(integration=integration)
        except (base.ConnectError, base.SendError) as exc:
            # Still mark it inactive locally: the business asked to stop using it.
            error = f"Disconnect on the platform failed: {exc}"
            logger.warning("Disconnect failed", extra={"integration_id": str(integration.pk)})
    return _record_connection(
        integration,
        status=Integration.Status.INACTIVE,
        error=error,
        action=audit.CHANNEL_DISCONNECTED,
    )


@transaction.atomic
def integration_delete(*, integration: Integration) -> None:
    _audit(audit.CHANNEL_DELETED, integration, by=audit.request_user())
    try:
        integration.delete()
    except ProtectedError as exc:
        raise ConflictError(
            "This channel has conversations; disconnect it instead of deleting it.",
            code="integration_in_use",
        ) from exc


def credentials_reencrypt() -> int:
    """Re-save every integration so its credentials use the current (first) encryption key."""
    count = 0
    for integration_id in Integration.objects.values_list("pk", flat=True):
        with transaction.atomic():
            integration = Integration.objects.select_for_update().get(pk=integration_id)
            integration.save(update_fields=["credentials"])
        count += 1
    return count
