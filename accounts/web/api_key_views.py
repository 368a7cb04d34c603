"""The API keys page for admins: create (the secret is shown on the answer to that POST, once),
list and revoke, through the services the API uses (``/api/api-keys``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts import selectors, services
from accounts.models import ApiKey
from accounts.web.access import admin_required
from accounts.web.forms import ApiKeyForm
from flame.exceptions import ApplicationError, NotFoundError
from flame.forms import add_service_errors

SERVICE_MESSAGES = {
    "permission_denied": gettext_lazy("Only workspace admins can do this."),
}


def _key_or_404(request: HttpRequest, key_id) -> ApiKey:
    try:
        return selectors.api_key_get_for(actor=request.user, key_id=key_id)
    except NotFoundError as exc:
        raise Http404 from exc


def _page(
    request: HttpRequest,
    *,
    form: ApiKeyForm | None = None,
    created: ApiKey | None = None,
    secret: str = "",
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    keys = list(selectors.api_key_list_for(actor=request.user))
    context = {
        "nav": "workspace",
        "form": form or ApiKeyForm(),
        "keys": [(key, key.state(now)) for key in keys],
        "scope_labels": dict(ApiKey.Scope.choices),
        "created": created,
        "secret": secret,
    }
    return render(request, "accounts/settings_api_keys.html", context, status=status)


@admin_required
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    """The keys; POST creates one and answers with its secret (never stored, so never shown
    again: the page is not cached, and a reload asks the browser to send the form again)."""
    if request.method == "GET":
        return _page(request)
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    try:
        key, secret = services.api_key_create(
            by=request.user, **form.service_arguments(timezone.now())
        )
    except ApplicationError as exc:
        add_service_errors(form, exc, SERVICE_MESSAGES)
        return _page(request, form=form, status=exc.status_code)
    return _page(request, created=key, secret=secret)


@admin_required
@require_http_methods(["GET", "POST"])
def api_key_revoke(request: HttpRequest, key_id) -> HttpResponse:
    """GET asks for confirmation; POST revokes."""
    key = _key_or_404(request, key_id)
    if request.method == "GET":
        context = {"nav": "workspace", "key": key}
        return render(request, "accounts/settings_api_key_revoke.html", context)
    services.api_key_revoke(by=request.user, key=key)
    messages.success(request, _("The key “%(name)s” has been revoked.") % {"name": key.name})
    return redirect("settings-api-keys")
