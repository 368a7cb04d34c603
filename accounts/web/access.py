"""Who may open a page. Pages use the session; the same users and roles as the API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache

View = Callable[..., HttpResponse]


def member_required(view: View) -> View:
    """A signed-in, active member of a workspace (platform superusers without one use admin).

    Their pages are never stored (``no-store``): after signing out, the browser's back button
    must not bring a member's conversations back from its cache.
    """

    @never_cache
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_active or request.user.workspace_id is None:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def admin_required(view: View) -> View:
    """A workspace admin: settings pages."""

    @member_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_workspace_admin:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped
