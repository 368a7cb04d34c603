"""Bearer tokens (JWT) as the plan allows them.

A bearer token is how API clients call FLAME; the product's own pages use the session cookie.
API access is part of the plan (``accounts.plans``): on a plan without it, a valid token is
refused with 403 ``plan_limit_reached`` naming the plan to upgrade to, while the pages keep
working. A client may still sign in, see who it is and sign out (``/api/auth/``) and see or
change the plan (``/api/payments/``), so it can learn why and upgrade.
"""

from __future__ import annotations

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework import exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts import plans
from accounts.models import User

# Paths a token may reach on any plan: its own session, and the way to a plan with the API.
ALWAYS_OPEN_PREFIXES = ("/api/auth/", "/api/payments/")


class ApiAccessRefused(plans.PlanLimitReached, exceptions.APIException):
    """A PlanLimitReached that DRF lets out of ``authenticate()`` (it only passes its own
    exceptions through); the API's handler renders it as the domain refusal it is."""

    status_code = 403

    def __init__(self, refusal: plans.PlanLimitReached) -> None:
        super().__init__(refusal.message, code=refusal.code, details=refusal.details)
        self.detail = refusal.message


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
            try:
                plans.check_api_access(plan_code=workspace.plan)
            except plans.PlanLimitReached as refusal:
                raise ApiAccessRefused(refusal) from refusal
        return result


class PlanJWTScheme(SimpleJWTScheme):
    """The OpenAPI schema's bearer scheme, as for simplejwt's own class."""

    target_class = "accounts.api.authentication.PlanJWTAuthentication"
