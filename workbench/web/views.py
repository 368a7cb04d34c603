"""The workbench's pages: notification preferences and saved replies (every member), and the
auto-assignment settings (admins). POST/redirect/GET through the same services as the API; a
refusal shows the page again with the errors and the service's status, having changed nothing.
"""

from __future__ import annotations

from dataclasses import asdict
from functools import partial

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.selectors import user_get_for
from accounts.web.access import admin_required, member_required
from flame.exceptions import ApplicationError, NotFoundError
from flame.forms import form_refusal, service_message
from workbench import selectors, services
from workbench.models import SavedReply
from workbench.services.notifications import preferences_of
from workbench.web.forms import (
    AutoAssignForm,
    CapacityForm,
    PreferencesForm,
    SavedReplyForm,
    WaitingAlertForm,
)

SERVICE_MESSAGES = {
    "short_code_taken": gettext_lazy("You already have a saved reply with this short code."),
    "permission_denied": gettext_lazy("Only workspace admins can change the workspace's replies."),
}


# --- notification preferences --------------------------------------------------------------------


@member_required
@require_http_methods(["GET", "POST"])
def notification_preferences(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            services.preferences_update(user=request.user, changes=form.cleaned_data)
            messages.success(request, _("Notification preferences saved."))
            return redirect("settings-notifications")
    else:
        preference = preferences_of(request.user.pk)
        form = PreferencesForm(
            initial={name: getattr(preference, name) for name in preference.FIELDS}
        )
    return render(request, "workbench/settings_notifications.html", {"form": form})


# --- saved replies -------------------------------------------------------------------------------


def _reply_or_404(request: HttpRequest, reply_id) -> SavedReply:
    try:
        return selectors.saved_reply_get_for(user=request.user, reply_id=reply_id)
    except NotFoundError as exc:
        raise Http404 from exc


def _replies_page(request: HttpRequest, form: SavedReplyForm, status: int = 200) -> HttpResponse:
    replies = selectors.saved_reply_list_for(user=request.user).select_related("owner")
    context = {
        "form": form,
        "replies": replies,
        "nav": "workspace" if request.user.is_workspace_admin else "",
    }
    return render(request, "workbench/settings_saved_replies.html", context, status=status)


@member_required
@require_http_methods(["GET", "POST"])
def saved_replies(request: HttpRequest) -> HttpResponse:
    """Every reply the member may use; POST adds one."""
    can_share = request.user.is_workspace_admin
    if request.method == "GET":
        return _replies_page(request, SavedReplyForm(can_share=can_share))
    form = SavedReplyForm(request.POST, can_share=can_share)
    create = partial(services.saved_reply_create, by=request.user, personal=True)
    if status := form_refusal(form, create, SERVICE_MESSAGES):
        return _replies_page(request, form, status=status)
    messages.success(
        request,
        _("Saved reply /%(code)s added.") % {"code": form.cleaned_data["short_code"].lstrip("/")},
    )
    return redirect("settings-saved-replies")


@member_required
@require_http_methods(["GET", "POST"])
def saved_reply(request: HttpRequest, reply_id) -> HttpResponse:
    """Edit one reply (its owner, or an admin for the workspace's)."""
    reply = _reply_or_404(request, reply_id)
    if request.method == "GET":
        form = SavedReplyForm(initial={"short_code": reply.short_code, "content": reply.content})
        return _reply_page(request, reply, form)
    form = SavedReplyForm(request.POST)
    update = partial(services.saved_reply_update, by=request.user, reply=reply)
    if status := form_refusal(form, update, SERVICE_MESSAGES):
        return _reply_page(request, reply, form, status=status)
    messages.success(request, _("Saved reply updated."))
    return redirect("settings-saved-replies")


def _reply_page(request, reply, form, status: int = 200, error: str = "") -> HttpResponse:
    context = {"reply": reply, "form": form, "error": error}
    return render(request, "workbench/settings_saved_reply.html", context, status=status)


@member_required
@require_POST
def saved_reply_delete(request: HttpRequest, reply_id) -> HttpResponse:
    reply = _reply_or_404(request, reply_id)
    try:
        services.saved_reply_delete(by=request.user, reply=reply)
    except ApplicationError as exc:
        form = SavedReplyForm(initial={"short_code": reply.short_code, "content": reply.content})
        error = service_message(exc, SERVICE_MESSAGES)
        return _reply_page(request, reply, form, status=exc.status_code, error=error)
    messages.success(request, _("Saved reply deleted."))
    return redirect("settings-saved-replies")


# --- auto-assignment (admins) --------------------------------------------------------------------


def _assignment_page(request: HttpRequest, *, alert_form=None, error: str = "", status: int = 200):
    minutes = selectors.waiting_alert_minutes_for(user=request.user)
    context = {
        "nav": "workspace",
        "channels": [asdict(row) for row in selectors.channel_rows_for(user=request.user)],
        "agents": [asdict(row) for row in selectors.agent_rows_for(user=request.user)],
        "alert_form": alert_form or WaitingAlertForm(initial={"waiting_alert_minutes": minutes}),
        "error": error,
    }
    return render(request, "workbench/settings_assignment.html", context, status=status)


@admin_required
@require_http_methods(["GET", "POST"])
def assignment(request: HttpRequest) -> HttpResponse:
    """The page; POST sets the waiting alert."""
    if request.method == "GET":
        return _assignment_page(request)
    form = WaitingAlertForm(request.POST)
    if not form.is_valid():
        return _assignment_page(request, alert_form=form, status=400)
    services.waiting_alert_set(by=request.user, minutes=form.cleaned_data["waiting_alert_minutes"])
    messages.success(request, _("Alert saved."))
    return redirect("settings-assignment")


@admin_required
@require_POST
def assignment_channel(request: HttpRequest, integration_id) -> HttpResponse:
    try:
        channel = selectors.channel_get_for(user=request.user, integration_id=integration_id)
    except NotFoundError as exc:
        raise Http404 from exc
    form = AutoAssignForm(request.POST)
    form.is_valid()  # a check box: absent means off
    auto = form.cleaned_data.get("auto_assign", False)
    services.channel_auto_assign_set(by=request.user, integration=channel, auto_assign=auto)
    text = (
        _("%(channel)s assigns new conversations automatically.")
        if auto
        else _("%(channel)s leaves new conversations unassigned.")
    )
    messages.success(request, text % {"channel": channel.name})
    return redirect("settings-assignment")


@admin_required
@require_POST
def assignment_agent(request: HttpRequest, user_id) -> HttpResponse:
    try:
        member = user_get_for(actor=request.user, user_id=user_id)
    except NotFoundError as exc:
        raise Http404 from exc
    form = CapacityForm(request.POST)
    if not form.is_valid():
        return _assignment_page(
            request, error=_("Capacity: a whole number from 0 to 100."), status=400
        )
    services.agent_capacity_set(
        by=request.user, member=member, capacity=form.cleaned_data["capacity"]
    )
    messages.success(
        request, _("Capacity of %(name)s saved.") % {"name": member.name or member.email}
    )
    return redirect("settings-assignment")
