"""Per-user API rate limit for authenticated calls (anonymous ones: flame.middleware)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from flame.ratelimits import hit


class ApiRateThrottle(BaseThrottle):
    """RATELIMIT_USER per signed-in user.

    DRF runs throttles after authentication, so a JWT request is counted against its user and
    not against the office NAT it shares with colleagues.
    """

    def allow_request(self, request, view) -> bool:
        user = request.user
        self._wait = None
        if user is not None and user.is_authenticated:
            self._wait = hit(
                request, group="api-user", key=str(user.pk), rate=settings.RATELIMIT_USER
            )
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait
