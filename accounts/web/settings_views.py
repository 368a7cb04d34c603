"""Workspace settings pages for admins: the members (agents) and the workspace itself.

POST/redirect/GET: a successful change redirects with a flash message; a refused one renders the
page again with the errors and the service's status (400 bad input, 409 a rule such as "the last
admin"), having changed nothing. The services used are the API's (``/api/users``), so the rules
are the same wherever a change comes from.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services
from accounts.models import User
from accounts.web.access import admin_required
from accounts.web.forms import InviteForm, RoleForm, WorkspaceForm
from flame.exceptions import ApplicationError, NotFoundError
from flame.forms import add_service_errors, service_message

# The services' refusals in the page's language (services speak the API's English).
SERVICE_MESSAGES = {
    "last_admin": gettext_lazy("A workspace needs at least one active admin."),
    "self_deactivation": gettext_lazy("You cannot deactivate yourself."),
    "email_taken": gettext_lazy("This workspace already has a member with this e-mail address."),
    "permission_denied": gettext_lazy("Only workspace admins can do this."),
}


def _member_or_404(request: HttpRequest, user_id) -> User:
    try:
        return selectors.user_get_for(actor=request.user, user_id=user_id)
    except NotFoundError as exc:
        raise Http404 from exc


def _members(request: HttpRequest):
    return selectors.user_list_for(actor=request.user).order_by("-is_active", "name", "email")


def _agents_page(
    request: HttpRequest, *, form: InviteForm | None = None, error: str = "", status: int = 200
) -> HttpResponse:
    members = list(_members(request))
    context = {
        "nav": "agents",
        "members": members,
        "active_count": sum(member.is_active for member in members),
        "form": form or InviteForm(),
        "roles": User.Role.choices,
        "error": error,
    }
    return render(request, "accounts/settings_agents.html", context, status=status)


@admin_required
@require_http_methods(["GET", "POST"])
def agents(request: HttpRequest) -> HttpResponse:
    """The member list; POST invites a member."""
    if request.method == "GET":
        return _agents_page(request)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _agents_page(request, form=form, status=400)
    try:
        member = services.user_invite(by=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        add_service_errors(form, exc, SERVICE_MESSAGES)
        return _agents_page(request, form=form, status=exc.status_code)
    messages.success(request, _("Invitation sent to %(email)s.") % {"email": member.email})
    return redirect("settings-agents")


def _update_membership(request: HttpRequest, member: User, **changes) -> HttpResponse | None:
    """Apply the change; on a refusal, the page with the service's error (None means done)."""
    try:
        services.user_update_membership(by=request.user, user=member, **changes)
    except ApplicationError as exc:
        error = service_message(exc, SERVICE_MESSAGES)
        return _agents_page(request, error=error, status=exc.status_code)
    return None


@admin_required
@require_POST
def agent_role(request: HttpRequest, user_id) -> HttpResponse:
    member = _member_or_404(request, user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _agents_page(request, error=_("Choose a valid role."), status=400)
    refused = _update_membership(request, member, role=form.cleaned_data["role"])
    if refused:
        return refused
    role = User.Role(member.role).label
    messages.success(request, _("%(name)s is now %(role)s.") % {"name": member.name, "role": role})
    if member.pk == request.user.pk and member.role != User.Role.ADMIN:
        return redirect("dashboard")  # they just left the admins: this page is not theirs now
    return redirect("settings-agents")


@admin_required
@require_http_methods(["GET", "POST"])
def agent_deactivate(request: HttpRequest, user_id) -> HttpResponse:
    """GET asks for confirmation; POST deactivates (history keeps pointing at the person)."""
    member = _member_or_404(request, user_id)
    if request.method == "GET":
        context = {"nav": "agents", "member": member}
        return render(request, "accounts/settings_agent_deactivate.html", context)
    refused = _update_membership(request, member, is_active=False)
    if refused:
        return refused
    messages.success(request, _("%(name)s has been deactivated.") % {"name": member.name})
    return redirect("settings-agents")


@admin_required
@require_POST
def agent_reactivate(request: HttpRequest, user_id) -> HttpResponse:
    member = _member_or_404(request, user_id)
    refused = _update_membership(request, member, is_active=True)
    if refused:
        return refused
    messages.success(request, _("%(name)s is active again.") % {"name": member.name})
    return redirect("settings-agents")


@admin_required
@require_http_methods(["GET", "POST"])
def workspace(request: HttpRequest) -> HttpResponse:
    current = request.user.workspace
    if request.method == "GET":
        initial = WorkspaceForm.initial_for(current, services.workspace_switches())
        form = WorkspaceForm(initial=initial, current_timezone=current.timezone)
        return _workspace_page(request, form)
    form = WorkspaceForm(request.POST, current_timezone=current.timezone)
    if not form.is_valid():
        return _workspace_page(request, form, status=400)
    try:
        services.workspace_update(by=request.user, workspace=current, **form.service_arguments())
    except ApplicationError as exc:
        add_service_errors(form, exc, SERVICE_MESSAGES)
        return _workspace_page(request, form, status=exc.status_code)
    if not request.user.language:
        translation.activate(current.language)  # the confirmation speaks the new language
    messages.success(request, _("Workspace settings saved."))
    return redirect("settings-workspace")


def _workspace_page(request: HttpRequest, form: WorkspaceForm, status: int = 200) -> HttpResponse:
    context = {"nav": "workspace", "form": form, "workspace": request.user.workspace}
    return render(request, "accounts/settings_workspace.html", context, status=status)
