"""The analytics dashboard page.

The page is a shell: figures come from ``/api/analytics/*`` through ``static/js/dashboard/``, so
the API's scoping applies (agents see their own figures, admins the workspace's). The server
only fills the period picker with whole local days in the workspace timezone.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.web.access import member_required
from analytics.selectors import DAY, WEEK
from assistants.schedule import workspace_zone

DEFAULT_DAYS = 30


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def default_period(today: date, *, start: str | None = None, end: str | None = None):
    """The period in the query string when it makes sense, else the last 30 days to today."""
    last = _day(end) or today
    first = _day(start) or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        first, last = last - timedelta(days=DEFAULT_DAYS - 1), last
    return first, last


@member_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate(timezone=workspace_zone(request.user.workspace.timezone))
    first, last = default_period(today, start=request.GET.get("from"), end=request.GET.get("to"))
    granularity = request.GET.get("granularity")
    context = {
        "nav": "dashboard",
        "period_from": first.isoformat(),
        "period_to": last.isoformat(),
        "today": today.isoformat(),
        "granularity": granularity if granularity in (DAY, WEEK) else DAY,
        "granularities": [(DAY, DAY), (WEEK, WEEK)],
        "is_admin": request.user.is_workspace_admin,
    }
    return render(request, "analytics/dashboard.html", context)
