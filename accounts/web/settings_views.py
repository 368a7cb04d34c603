"""Workspace settings pages for admins: agents and the workspace itself."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.web.access import admin_required


@admin_required
def agents(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/settings_agents.html")


@admin_required
def workspace(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/settings_workspace.html")
