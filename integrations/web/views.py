"""Settings pages for channels (integrations): list, add per platform, detail (webhook URL,
verify token, status counts, connect/disconnect, the sandbox simulator), edit, delete.
Workspace admins only.

Thin interfaces like the API views: reads through ``integrations.selectors`` (another
workspace's channel is a 404), every write is one service call. Credentials are write-only:
no page renders a stored value.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.web.access import admin_required
from flame.exceptions import ApplicationError, ConflictError, NotFoundError
from flame.forms import add_service_errors, service_message
from integrations import selectors, services
from integrations.models import Integration, Platform
from integrations.providers import (
    has_command_menu,
    keeps_templates,
    provider_spec,
    uses_verify_token,
)
from integrations.web.forms import BotCommandsForm, IntegrationForm, commands_text


@dataclass(frozen=True)
class PlatformCard:
    value: str
    label: str
    description: Promise


def _integration(request: HttpRequest, integration_id) -> Integration:
    try:
        return selectors.integration_get_for(user=request.user, integration_id=integration_id)
    except NotFoundError as exc:
        raise Http404(str(exc)) from exc


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, template, {"nav": "integrations", **context}, status=status)


# The services' refusals in the interface language (the platform's own words stay as given).
SERVICE_MESSAGES = {
    "connect_failed": gettext_lazy("The platform refused the connection."),
    "channel_unavailable": gettext_lazy("This channel cannot be connected here."),
    "integration_in_use": gettext_lazy(
        "This channel has conversations; disconnect it instead of deleting it."
    ),
    "account_taken": gettext_lazy("This channel account is already connected to a workspace."),
}


def _readable(error: ApplicationError, words: dict | None = None) -> str:
    """The service's message, with the platform's own words when it gave some."""
    message = service_message(error, {**SERVICE_MESSAGES, **(words or {})})
    provider_message = (error.details or {}).get("provider_message")
    return f"{message} {provider_message}" if provider_message else message


# --- list and create -----------------------------------------------------------------------------


@admin_required
@require_http_methods(["GET"])
def integration_list(request: HttpRequest) -> HttpResponse:
    integrations = selectors.integration_list_for(user=request.user).select_related(
        "default_assistant"
    )
    return _page(request, "integrations/settings_list.html", {"integrations": integrations})


@admin_required
@require_http_methods(["GET"])
def integration_new(request: HttpRequest) -> HttpResponse:
    cards = [
        PlatformCard(value=value, label=label, description=provider_spec(value).description)
        for value, label in Platform.choices
    ]
    return _page(request, "integrations/integration_new.html", {"platforms": cards})


def _platform_or_404(platform: str) -> str:
    if platform not in Platform.values:
        raise Http404("Unknown platform.")
    return platform


@admin_required
@require_http_methods(["GET", "POST"])
def integration_create(request: HttpRequest, platform: str) -> HttpResponse:
    platform = _platform_or_404(platform)
    form = IntegrationForm(request.POST or None, user=request.user, platform=platform)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                integration = services.integration_create(
                    by=request.user,
                    platform=platform,
                    name=form.cleaned_data["name"],
                    credentials=form.credentials(),
                    default_assistant=form.cleaned_data["default_assistant"],
                )
            except ApplicationError as exc:
                add_service_errors(form, exc, SERVICE_MESSAGES)
                status = exc.status_code
            else:
                messages.success(
                    request, _("Channel “%(name)s” added.") % {"name": integration.name}
                )
                return redirect("settings-integration", integration_id=integration.pk)
    context = {"form": form, "platform": platform, "platform_label": Platform(platform).label}
    return _page(request, "integrations/integration_form.html", context, status)


# --- one channel ---------------------------------------------------------------------------------


@admin_required
@require_http_methods(["GET"])
def integration_detail(request: HttpRequest, integration_id) -> HttpResponse:
    return detail_page(request, _integration(request, integration_id))


def detail_page(
    request: HttpRequest,
    integration: Integration,
    *,
    commands_form: BotCommandsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "integration": integration,
        "counts": selectors.integration_status_counts(integration=integration),
        "shows_verify_token": uses_verify_token(integration.platform),
        "is_sandbox": provider_spec(integration.platform).simulated,
        **_extras(request, integration, commands_form),
    }
    return _page(request, "integrations/integration_detail.html", context, status)


def _extras(
    request: HttpRequest, integration: Integration, commands_form: BotCommandsForm | None
) -> dict:
    """What the platform keeps besides messages: templates (WhatsApp), a command menu (bots)."""
    extras: dict = {}
    if keeps_templates(integration.platform):
        templates = selectors.message_templates_for(integration=integration)
        extras["template_count"] = templates.count()
        extras["approved_count"] = templates.filter(status="approved").count()
        extras["keeps_templates"] = True
    if has_command_menu(integration.platform):
        initial = {"commands": commands_text(request.user.workspace)}
        extras["commands_form"] = commands_form or BotCommandsForm(initial=initial)
    return extras


@admin_required
@require_http_methods(["GET", "POST"])
def integration_edit(request: HttpRequest, integration_id) -> HttpResponse:
    integration = _integration(request, integration_id)
    form = IntegrationForm(
        request.POST or None,
        user=request.user,
        platform=integration.platform,
        integration=integration,
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.integration_update(
                    integration=integration,
                    name=form.cleaned_data["name"],
                    credentials=form.credentials() or None,
                    default_assistant=form.cleaned_data["default_assistant"],
                )
            except ApplicationError as exc:
                add_service_errors(form, exc, SERVICE_MESSAGES)
                status = exc.status_code
            else:
                messages.success(request, _("Changes saved."))
                return redirect("settings-integration", integration_id=integration.pk)
    context = {
        "form": form,
        "integration": integration,
        "platform": integration.platform,
        "platform_label": integration.get_platform_display(),
    }
    return _page(request, "integrations/integration_form.html", context, status)


@admin_required
@require_POST
def integration_connect(request: HttpRequest, integration_id) -> HttpResponse:
    integration = _integration(request, integration_id)
    try:
        services.integration_connect(integration=integration)
    except ConflictError as exc:
        messages.error(request, _readable(exc))
    else:
        messages.success(request, _("Connected. The channel is receiving messages."))
    return redirect("settings-integration", integration_id=integration.pk)


@admin_required
@require_POST
def integration_disconnect(request: HttpRequest, integration_id) -> HttpResponse:
    integration = services.integration_disconnect(integration=_integration(request, integration_id))
    if integration.last_error:
        messages.warning(request, integration.last_error)
    else:
        messages.success(request, _("Disconnected. New messages are no longer received."))
    return redirect("settings-integration", integration_id=integration.pk)


@admin_required
@require_http_methods(["GET", "POST"])
def integration_delete(request: HttpRequest, integration_id) -> HttpResponse:
    integration = _integration(request, integration_id)
    if request.method == "POST":
        try:
            services.integration_delete(integration=integration)
        except ConflictError as exc:
            messages.error(request, _readable(exc))
            return redirect("settings-integration", integration_id=integration.pk)
        messages.success(request, _("Channel “%(name)s” deleted.") % {"name": integration.name})
        return redirect("settings-integrations")
    return _page(request, "integrations/integration_delete.html", {"integration": integration})
