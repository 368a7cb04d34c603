"""What every page knows from billing: the notices its admin has not dismissed."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from billing import selectors

SHOWN = 3  # the newest few; the rest wait until these are dismissed


def notices(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_workspace_admin:
        return {}
    # Lazy: only a page that shows them (base.html) runs the query.
    return {
        "platform_notices": SimpleLazyObject(lambda: list(selectors.notices_for(user=user)[:SHOWN]))
    }
