"""The analytics dashboard page.

The page is a shell: figures come from ``/api/analytics/*`` through ``static/js/dashboard/``, so
the API's scoping applies (agents see their own figures, admins the workspace's). The server
only fills the period picker with whole local days in the workspace timezone, read with the
API's own query serializer so the page starts with a period the API accepts.
"""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts import plans
from accounts.web.access import member_required
from analytics.api.serializers import DASHBOARD_DEFAULT_DAYS, WindowQuerySerializer
from analytics.selectors import Window
from assistants.schedule import workspace_zone


def page_window(query, zone, earliest: date | None = None) -> Window:
    """The period in the query string when the API would accept it, else the default one: the
    page never starts with a period its API calls refuse (nor one older than ``earliest``, the
    plan's first day of history)."""
    today = timezone.localdate(timezone=zone)
    default_days = DASHBOARD_DEFAULT_DAYS
    if earliest is not None:
        default_days = min(default_days, (today - earliest).days + 1)
    context = {"zone": zone, "default_days": default_days}
    serializer = WindowQuerySerializer(data=query, context=context)
    valid = serializer.is_valid()
    if not valid or (earliest is not None and serializer.validated_data.first_day < earliest):
        serializer = WindowQuerySerializer(data={}, context=context)
        serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@member_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    workspace = request.user.workspace
    zone = workspace_zone(workspace.timezone)
    today = timezone.localdate(timezone=zone)
    earliest = plans.earliest_report_day(plan_code=workspace.plan, today=today)
    window = page_window(request.GET, zone, earliest)
    context = {
        "nav": "dashboard",
        "period_from": window.first_day.isoformat(),
        "period_to": window.last_day.isoformat(),
        "today": today.isoformat(),
        "earliest": earliest.isoformat() if earliest else "",
        "granularity": window.granularity,
        "is_admin": request.user.is_workspace_admin,
    }
    return render(request, "analytics/dashboard.html", context)
