"""API keys and bearer tokens (JWT) as the plan allows them.

A bearer token or an API key is how API clients call FLAME; the product's own pages (and the
Django admin) use the session cookie only, so neither reaches them. API access is part of the
plan (``accounts.plans``): on a plan without it, a valid token or key is refused with 403
``plan_limit_reached`` naming the plan to upgrade to, while the pages keep working. A client
signed in with a token may still sign in, see who it is and sign out (``/api/auth/``) and see
or change the plan (``/api/payments/``), so it can learn why and upgrade; a key reaches
neither (``accounts.api_keys``).
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts import api_keys, audit, plans, selectors, services
from accounts.models import ApiKey, User
from accounts.tokens import token_digest
from flame.exceptions import PermissionDeniedError

# Paths a token may reach on any plan: its own session, and the way to a plan with the API.
ALWAYS_OPEN_PREFIXES = ("/api/auth/", "/api/payments/")


class ApiAccessRefused(plans.PlanLimitReached, exceptions.APIException):
    """A PlanLimitReached that DRF lets out of ``authenticate()`` (it only passes its own
    exceptions through); the API's handler renders it as the domain refusal it is."""

    status_code = 403

    def __init__(self, refusal: plans.PlanLimitReached) -> None:
        super().__init__(refusal.message, code=refusal.code, details=refusal.details)
        self.detail = refusal.message


def _refuse_on_plan(workspace) -> None:
    try:
        plans.check_api_access(plan_code=workspace.plan)
    except plans.PlanLimitReached as refusal:
        raise ApiAccessRefused(refusal) from refusal


class _MembersWithWorkspace:
    """What simplejwt looks users up in (``user_model.objects.get``), joining the workspace:
    the plan check costs no query of its own."""

    DoesNotExist = User.DoesNotExist

    @property
    def objects(self):
        return User.objects.select_related("workspace")


class PlanJWTAuthentication(JWTAuthentication):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user_model = _MembersWithWorkspace()

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None or request.path.startswith(ALWAYS_OPEN_PREFIXES):
            return result
        user = result[0]
        workspace = getattr(user, "workspace", None)
        if workspace is not None:
            _refuse_on_plan(workspace)
        return result


class PlanJWTScheme(SimpleJWTScheme):
    """The OpenAPI schema's bearer scheme, as for simplejwt's own class."""

    target_class = "accounts.api.authentication.PlanJWTAuthentication"


KEY_NOT_VALID = "This API key is not valid."
KEY_EXPIRED = "This API key has expired."
KEY_REVOKED = "This API key has been revoked."
KEY_OWNER_GONE = (
    "The admin who created this API key is no longer an active admin of the workspace; "
    "create a new key."
)


class ApiKeyScopeRefused(PermissionDeniedError, exceptions.APIException):
    """403 naming the scope the key lacks (a domain refusal DRF lets out of authenticate)."""

    status_code = 403
    default_code = "insufficient_scope"

    def __init__(self, message: str, *, details: dict) -> None:
        PermissionDeniedError.__init__(self, message, details=details)
        self.detail = message


def _key_refused(message: str) -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed(message, code="api_key_not_valid")


class ApiKeyAuthentication(BaseAuthentication):
    """``X-Api-Key: flm_…`` or ``Authorization: Bearer flm_…`` (accounts.api_keys).

    ``request.user`` is the admin who created the key, loaded as stored now, and
    ``request.auth`` the key: every selector then scopes the key's calls to that admin's
    workspace as it does for the admin, and the key's scopes narrow what it may call before
    any view runs. A key whose admin was demoted or deactivated stops working (401).
    """

    def authenticate(self, request):
        secret = api_keys.presented_secret(request.headers)
        if secret is None:
            return None
        now = timezone.now()
        key = _usable_key(selectors.api_key_by_digest(digest=token_digest(secret)), now)
        method = request.method or "GET"
        _check_scope(key, method, request.path_info)
        _refuse_on_plan(key.created_by.workspace)
        audit.bind_api_key(key)
        services.api_key_record_use(key=key, now=now, method=method, path=request.path_info)
        return key.created_by, key

    def authenticate_header(self, request) -> str:
        # The first authenticator's header decides 401 (not 403) for anonymous calls.
        return 'Bearer realm="api"'


def _usable_key(key: ApiKey | None, now) -> ApiKey:
    if key is None:
        raise _key_refused(KEY_NOT_VALID)
    if key.revoked_at is not None:
        raise _key_refused(KEY_REVOKED)
    if key.is_expired(now):
        raise _key_refused(KEY_EXPIRED)
    owner = key.created_by
    if not (
        owner.is_workspace_admin and not owner.is_pending and owner.workspace_id == key.workspace_id
    ):
        raise _key_refused(KEY_OWNER_GONE)
    return key


def _check_scope(key: ApiKey, method: str, path: str) -> None:
    needed = api_keys.required_scope(method, path)
    if needed is None:
        raise ApiKeyScopeRefused(
            "API keys cannot call this endpoint.", details={"required_scope": None}
        )
    if needed not in key.scopes:
        raise ApiKeyScopeRefused(
            f"This API key lacks the {needed} scope.",
            details={"required_scope": str(needed), "scopes": list(key.scopes)},
        )


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """The OpenAPI schema's API key scheme."""

    target_class = "accounts.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-Api-Key"}
