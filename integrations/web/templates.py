"""Settings pages for what a channel keeps on the platform: WhatsApp message templates (listed,
synced on demand) and the Telegram bot's command menu (a workspace setting registered on every
bot). Workspace admins only; reads through the selectors, writes through the services."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.web.access import admin_required
from flame.exceptions import ConflictError
from integrations import commands, selectors, templates
from integrations.providers import has_command_menu, keeps_templates
from integrations.web.forms import BotCommandsForm
from integrations.web.views import _integration, _page, _readable, detail_page

SERVICE_MESSAGES = {
    "templates_sync_failed": gettext_lazy("The platform refused to list the templates."),
    "templates_unsupported": gettext_lazy("This channel has no message templates."),
}


def _templated(request: HttpRequest, integration_id):
    integration = _integration(request, integration_id)
    if not keeps_templates(integration.platform):
        raise Http404("This channel has no message templates.")
    return integration


@admin_required
@require_http_methods(["GET"])
def template_list(request: HttpRequest, integration_id) -> HttpResponse:
    integration = _templated(request, integration_id)
    rows = [
        {"template": template, "parts": templates.template_parts(template)}
        for template in selectors.message_templates_for(integration=integration)
    ]
    context = {
        "integration": integration,
        "rows": rows,
        "has_business_account": bool(integration.credentials.get("business_account_id")),
    }
    return _page(request, "integrations/templates.html", context)


@admin_required
@require_POST
def template_sync(request: HttpRequest, integration_id) -> HttpResponse:
    integration = _templated(request, integration_id)
    try:
        count = templates.templates_sync(integration=integration)
    except ConflictError as exc:
        messages.error(request, _readable(exc, SERVICE_MESSAGES))
    else:
        messages.success(request, _("Templates synced: %(count)d.") % {"count": count})
    return redirect("settings-integration-templates", integration_id=integration.pk)


@admin_required
@require_POST
def bot_commands_save(request: HttpRequest, integration_id) -> HttpResponse:
    """Saved for the workspace, registered on every connected bot (from a bot's page)."""
    integration = _integration(request, integration_id)
    if not has_command_menu(integration.platform):
        raise Http404("This channel has no command menu.")
    form = BotCommandsForm(request.POST)
    if not form.is_valid():
        return detail_page(request, integration, commands_form=form, status=400)
    registrations = commands.bot_commands_update(
        by=request.user, commands=form.validated["commands"]
    )
    refused = [r for r in registrations if r.error]
    for registration in refused:
        messages.warning(request, f"{registration.integration.name}: {registration.error}")
    if not refused:
        messages.success(request, _("Bot commands saved."))
    return redirect("settings-integration", integration_id=integration.pk)
