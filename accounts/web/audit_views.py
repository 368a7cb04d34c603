"""The audit log page for admins: the workspace's entries, newest first, filtered by action,
kind of actor and local days (the same selector as ``GET /api/audit-log``)."""

from __future__ import annotations

import json
import zoneinfo

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts import selectors
from accounts.audit import ACTIONS
from accounts.web.access import admin_required
from accounts.web.forms import AuditFilterForm

PAGE_SIZE = 50


@admin_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    entries = selectors.audit_entries_for(actor=request.user)
    status = 200
    if form.is_bound and form.is_valid():
        zone = zoneinfo.ZoneInfo(request.user.workspace.timezone)
        entries = selectors.audit_entries_filtered(entries, **form.selector_arguments(zone))
    elif form.is_bound:
        status = 400
        entries = entries.none()
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "nav": "workspace",
        "form": form,
        "page": page,
        "rows": [_row(entry) for entry in page],
        "query": query.urlencode(),
    }
    return render(request, "accounts/settings_audit_log.html", context, status=status)


def _row(entry) -> dict:
    return {
        "entry": entry,
        "action": ACTIONS.get(entry.action, entry.action),
        "details": json.dumps(entry.data, ensure_ascii=False, sort_keys=True, default=str)
        if entry.data
        else "",
    }
