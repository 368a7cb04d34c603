"""Settings pages for assistants: the list, the assistant's settings, its weekly schedules, its
knowledge (with training) and the playground. Workspace admins only.

Thin interfaces like the API views: reads start from ``assistants.selectors`` (another
workspace's assistant, schedule or document is a 404), every write is one service call.
Forms post, redirect and flash a message; refused input re-renders the form with status 400
and nothing changed.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts.calendar import override_at
from accounts.web.access import admin_required
from assistants import selectors, services
from assistants.models import Assistant, KnowledgeDocument, Schedule
from assistants.schedule import assistant_on_duty
from assistants.web import forms
from assistants.web.week import week_rows
from flame.exceptions import InvalidInput, NotFoundError
from flame.forms import add_service_errors

# --- lookups -------------------------------------------------------------------------------------


def _assistant(request: HttpRequest, assistant_id) -> Assistant:
    try:
        return selectors.assistant_get_for(user=request.user, assistant_id=assistant_id)
    except NotFoundError as exc:
        raise Http404(str(exc)) from exc


def _schedule(request: HttpRequest, assistant_id, schedule_id) -> Schedule:
    assistant = _assistant(request, assistant_id)
    try:
        schedule = selectors.schedule_get(assistant=assistant, schedule_id=schedule_id)
    except NotFoundError as exc:
        raise Http404(str(exc)) from exc
    schedule.assistant = assistant  # the one loaded with its schedules, for the page
    return schedule


def _document(request: HttpRequest, assistant_id, document_id) -> KnowledgeDocument:
    try:
        return selectors.knowledge_get(
            assistant=_assistant(request, assistant_id), document_id=document_id
        )
    except NotFoundError as exc:
        raise Http404(str(exc)) from exc


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, template, {"nav": "assistants", **context}, status=status)


def _assistant_page(
    request: HttpRequest, assistant: Assistant, tab: str, context: dict, status: int = 200
) -> HttpResponse:
    """One tab of an assistant (settings, schedules, knowledge, playground) with its header."""
    now = timezone.now()
    header = {
        "assistant": assistant,
        "tab": tab,
        "on_duty": assistant_on_duty(assistant, now),
        "date_today": override_at(workspace=assistant.workspace, instant=now),
    }
    return _page(request, f"assistants/assistant_{tab}.html", {**header, **context}, status)


# --- assistants ----------------------------------------------------------------------------------


@admin_required
@require_http_methods(["GET"])
def assistant_list(request: HttpRequest) -> HttpResponse:
    assistants = selectors.assistant_list_with_channels_for(user=request.user)
    return _page(request, "assistants/settings_list.html", {"assistants": assistants})


def _model_names(request: HttpRequest) -> list[str]:
    return [row["id"] for row in selectors.ai_models(workspace=request.user.workspace)]


@admin_required
@require_http_methods(["GET", "POST"])
def assistant_create(request: HttpRequest) -> HttpResponse:
    form = forms.AssistantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            assistant = services.assistant_create(by=request.user, data=form.cleaned_data)
        except InvalidInput as exc:
            add_service_errors(form, exc, forms.SERVICE_MESSAGES)
        else:
            messages.success(request, _("Assistant “%(name)s” created.") % {"name": assistant})
            return redirect("settings-assistant", assistant_id=assistant.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "model_names": _model_names(request)}
    return _page(request, "assistants/assistant_create.html", context, status)


@admin_required
@require_http_methods(["GET", "POST"])
def assistant_edit(request: HttpRequest, assistant_id) -> HttpResponse:
    assistant = _assistant(request, assistant_id)
    form = forms.AssistantForm(request.POST or None, assistant=assistant)
    if request.method == "POST" and form.is_valid():
        try:
            services.assistant_update(assistant=assistant, data=form.cleaned_data)
        except InvalidInput as exc:
            add_service_errors(form, exc, forms.SERVICE_MESSAGES)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("settings-assistant", assistant_id=assistant.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "model_names": _model_names(request)}
    return _assistant_page(request, assistant, "settings", context, status)


@admin_required
@require_http_methods(["GET", "POST"])
def assistant_delete(request: HttpRequest, assistant_id) -> HttpResponse:
    assistant = _assistant(request, assistant_id)
    if request.method == "POST":
        name = assistant.name
        services.assistant_delete(assistant=assistant)
        messages.success(request, _("Assistant “%(name)s” deleted.") % {"name": name})
        return redirect("settings-assistants")
    channels = assistant.default_for_integrations.order_by("name")
    context = {"assistant": assistant, "channels": channels}
    return _page(request, "assistants/assistant_delete.html", context)


# --- schedules -----------------------------------------------------------------------------------


def _schedules_page(
    request: HttpRequest, assistant: Assistant, form, status: int = 200, editing=None
) -> HttpResponse:
    schedules = list(assistant.schedules.all())  # prefetched, in week order, by the selector
    context = {
        "form": form,
        "editing": editing,
        "schedules": schedules,
        "week": week_rows(schedules),
        "timezone_name": request.user.workspace.timezone,
    }
    return _assistant_page(request, assistant, "schedules", context, status)


@admin_required
@require_http_methods(["GET", "POST"])
def schedule_list(request: HttpRequest, assistant_id) -> HttpResponse:
    """The week table and the form that adds an interval."""
    assistant = _assistant(request, assistant_id)
    form = forms.ScheduleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.schedule_create(assistant=assistant, data=form.cleaned_data)
        messages.success(request, _("Interval added."))
        return redirect("settings-assistant-schedules", assistant_id=assistant.pk)
    return _schedules_page(request, assistant, form, 400 if request.method == "POST" else 200)


@admin_required
@require_http_methods(["GET", "POST"])
def schedule_edit(request: HttpRequest, assistant_id, schedule_id) -> HttpResponse:
    schedule = _schedule(request, assistant_id, schedule_id)
    form = forms.ScheduleForm(request.POST or None, schedule=schedule)
    if request.method == "POST" and form.is_valid():
        services.schedule_update(schedule=schedule, data=form.cleaned_data)
        messages.success(request, _("Interval saved."))
        return redirect("settings-assistant-schedules", assistant_id=schedule.assistant_id)
    status = 400 if request.method == "POST" else 200
    return _schedules_page(request, schedule.assistant, form, status, editing=schedule)


@admin_required
@require_POST
def schedule_delete(request: HttpRequest, assistant_id, schedule_id) -> HttpResponse:
    schedule = _schedule(request, assistant_id, schedule_id)
    services.schedule_delete(schedule=schedule)
    messages.success(request, _("Interval deleted."))
    return redirect("settings-assistant-schedules", assistant_id=schedule.assistant_id)


# --- knowledge -----------------------------------------------------------------------------------


def _knowledge_page(
    request: HttpRequest, assistant: Assistant, form, status: int = 200, editing=None
) -> HttpResponse:
    context = {
        "form": form,
        "editing": editing,
        "documents": selectors.knowledge_list(assistant=assistant),
    }
    return _assistant_page(request, assistant, "knowledge", context, status)


@admin_required
@require_http_methods(["GET", "POST"])
def knowledge_list(request: HttpRequest, assistant_id) -> HttpResponse:
    assistant = _assistant(request, assistant_id)
    form = forms.KnowledgeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.knowledge_create(assistant=assistant, **form.cleaned_data)
        messages.success(request, _("Document added. Train the assistant to use it."))
        return redirect("settings-assistant-knowledge", assistant_id=assistant.pk)
    return _knowledge_page(request, assistant, form, 400 if request.method == "POST" else 200)


@admin_required
@require_http_methods(["GET", "POST"])
def knowledge_edit(request: HttpRequest, assistant_id, document_id) -> HttpResponse:
    document = _document(request, assistant_id, document_id)
    form = forms.KnowledgeForm(request.POST or None, document=document)
    if request.method == "POST" and form.is_valid():
        services.knowledge_update(document=document, data=form.cleaned_data)
        messages.success(request, _("Document saved. Train the assistant to use the changes."))
        return redirect("settings-assistant-knowledge", assistant_id=document.assistant_id)
    status = 400 if request.method == "POST" else 200
    return _knowledge_page(request, document.assistant, form, status, editing=document)


@admin_required
@require_POST
def knowledge_delete(request: HttpRequest, assistant_id, document_id) -> HttpResponse:
    document = _document(request, assistant_id, document_id)
    services.knowledge_delete(document=document)
    messages.success(request, _("Document deleted. Train the assistant to forget it."))
    return redirect("settings-assistant-knowledge", assistant_id=document.assistant_id)


@admin_required
@require_POST
def assistant_train(request: HttpRequest, assistant_id) -> HttpResponse:
    assistant = services.assistant_train(assistant=_assistant(request, assistant_id))
    assistant.refresh_from_db()
    if assistant.status == Assistant.Status.TRAINING:
        messages.info(request, _("Training started. Reload this page in a moment to see it done."))
    else:
        count = assistant.chunks.count()
        text = ngettext(
            "Training finished: %(count)d passage indexed.",
            "Training finished: %(count)d passages indexed.",
            count,
        )
        messages.success(request, text % {"count": count})
    return redirect("settings-assistant-knowledge", assistant_id=assistant.pk)


# --- playground ----------------------------------------------------------------------------------


@admin_required
@require_http_methods(["GET"])
def playground(request: HttpRequest, assistant_id) -> HttpResponse:
    assistant = _assistant(request, assistant_id)
    return _assistant_page(request, assistant, "playground", {})
