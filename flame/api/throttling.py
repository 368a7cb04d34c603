"""Per-user API rate limit for authenticated calls (anonymous ones: flame.middleware)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from accounts.models import ApiKey
from flame.ratelimits import CountersUnavailable, hit


class ApiRateThrottle(BaseThrottle):
    """RATELIMIT_USER per signed-in user, RATELIMIT_API_KEY per API key.

    DRF runs throttles after authentication, so a JWT request is counted against its user and
    not against the office NAT it shares with colleagues. A key's calls are counted against the
    key alone, not against the admin it acts as: an integration's traffic never slows the
    person down, nor another key.
    """

    def allow_request(self, request, view) -> bool:
        try:
            self._wait = self._count(request)
        except CountersUnavailable:
            self._wait = None  # Redis is down: serve the product, unthrottled for the moment
        return self._wait is None

    def _count(self, request) -> int | None:
        user = request.user
        if isinstance(request.auth, ApiKey):
            return hit(
                request, group="api-key", key=str(request.auth.pk), rate=settings.RATELIMIT_API_KEY
            )
        if user is not None and user.is_authenticated:
            return hit(request, group="api-user", key=str(user.pk), rate=settings.RATELIMIT_USER)
        return None

    def wait(self) -> float | None:
        return self._wait
