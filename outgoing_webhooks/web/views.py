"""The webhooks pages for admins: endpoints (the signing secret shown once, on creation), each
with its delivery log and a redeliver button; the same services as ``/api/outgoing-webhooks``."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.web.access import admin_required
from flame.exceptions import ApplicationError, NotFoundError
from flame.forms import add_service_errors
from outgoing_webhooks import selectors, services
from outgoing_webhooks.models import WebhookEndpoint
from outgoing_webhooks.tasks import deliver_webhook_task
from outgoing_webhooks.web.forms import EndpointEditForm, EndpointForm

SERVICE_MESSAGES = {
    "permission_denied": gettext_lazy("Only workspace admins can do this."),
    "endpoint_disabled": gettext_lazy("Turn the endpoint on before redelivering."),
}
LOG_SIZE = 50


def _endpoint_or_404(request: HttpRequest, endpoint_id) -> WebhookEndpoint:
    try:
        return selectors.endpoint_get_for(actor=request.user, endpoint_id=endpoint_id)
    except NotFoundError as exc:
        raise Http404 from exc


def _list_page(
    request: HttpRequest,
    *,
    form: EndpointForm | None = None,
    created: WebhookEndpoint | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "nav": "workspace",
        "form": form or EndpointForm(),
        "endpoints": list(selectors.endpoint_list_for(actor=request.user)),
        "created": created,
    }
    return render(request, "outgoing_webhooks/settings_webhooks.html", context, status=status)


@admin_required
@require_http_methods(["GET", "POST"])
def endpoints(request: HttpRequest) -> HttpResponse:
    """The endpoints; POST adds one and answers with its signing secret, shown this once."""
    if request.method == "GET":
        return _list_page(request)
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _list_page(request, form=form, status=400)
    try:
        endpoint = services.endpoint_create(by=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        add_service_errors(form, exc, SERVICE_MESSAGES)
        return _list_page(request, form=form, status=exc.status_code)
    return _list_page(request, created=endpoint)


def _detail_page(
    request: HttpRequest, endpoint: WebhookEndpoint, form: EndpointEditForm, status: int = 200
) -> HttpResponse:
    deliveries = selectors.delivery_list_for(endpoint=endpoint)[:LOG_SIZE]
    context = {"nav": "workspace", "endpoint": endpoint, "form": form, "deliveries": deliveries}
    return render(request, "outgoing_webhooks/settings_webhook.html", context, status=status)


@admin_required
@require_http_methods(["GET", "POST"])
def endpoint_detail(request: HttpRequest, endpoint_id) -> HttpResponse:
    """The endpoint's settings and its delivery log; POST saves the settings."""
    endpoint = _endpoint_or_404(request, endpoint_id)
    if request.method == "GET":
        initial = {
            "url": endpoint.url,
            "description": endpoint.description,
            "events": endpoint.events,
            "is_active": endpoint.is_active,
        }
        return _detail_page(request, endpoint, EndpointEditForm(initial=initial))
    form = EndpointEditForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, endpoint, form, status=400)
    try:
        services.endpoint_update(by=request.user, endpoint=endpoint, **form.cleaned_data)
    except ApplicationError as exc:
        add_service_errors(form, exc, SERVICE_MESSAGES)
        return _detail_page(request, endpoint, form, status=exc.status_code)
    messages.success(request, _("Webhook saved."))
    return redirect("settings-webhook", endpoint_id=endpoint.pk)


@admin_required
@require_POST
def delivery_redeliver(request: HttpRequest, endpoint_id, delivery_id) -> HttpResponse:
    endpoint = _endpoint_or_404(request, endpoint_id)
    try:
        delivery = selectors.delivery_get_for(endpoint=endpoint, delivery_id=delivery_id)
        services.delivery_redeliver(by=request.user, delivery=delivery)
    except NotFoundError as exc:
        raise Http404 from exc
    except ApplicationError as exc:
        messages.error(request, str(SERVICE_MESSAGES.get(exc.code, exc.message)))
        return redirect("settings-webhook", endpoint_id=endpoint.pk)
    deliver_webhook_task.delay(str(delivery.pk))
    messages.success(request, _("The event is being sent again."))
    return redirect("settings-webhook", endpoint_id=endpoint.pk)


@admin_required
@require_http_methods(["GET", "POST"])
def endpoint_delete(request: HttpRequest, endpoint_id) -> HttpResponse:
    endpoint = _endpoint_or_404(request, endpoint_id)
    if request.method == "GET":
        context = {"nav": "workspace", "endpoint": endpoint}
        return render(request, "outgoing_webhooks/settings_webhook_delete.html", context)
    services.endpoint_delete(by=request.user, endpoint=endpoint)
    messages.success(request, _("Webhook deleted."))
    return redirect("settings-webhooks")
