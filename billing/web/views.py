"""The "Plan and billing" page for workspace admins, and dismissing a notice.

The page reads what ``GET /api/payments/subscription`` returns and its forms call the same
services as the API. Subscribing sends the browser to the provider's checkout (the CSP's
``form-action`` allows the providers' hosts, BILLING_FORM_ACTION_HOSTS); a refused change
renders the page again with the refusal and its status, having changed nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts import plans
from accounts.web.access import admin_required, member_required
from billing import selectors, services
from billing.models import Provider, Subscription
from flame.exceptions import ApplicationError, NotFoundError
from flame.forms import service_message

# The services' refusals in the page's language (services speak the API's English).
SERVICE_MESSAGES = {
    "already_on_plan": gettext_lazy("The workspace is on this plan already."),
    "subscribed_elsewhere": gettext_lazy(
        "This workspace pays through another provider: change the plan there."
    ),
    "provider_unavailable": gettext_lazy("This plan cannot be paid that way on this server."),
    "no_subscription": gettext_lazy("This workspace has no paid subscription."),
    "no_portal": gettext_lazy("The provider offers no portal for this subscription."),
    "payment_provider_error": gettext_lazy(
        "The payment provider did not answer. Nothing was changed; try again."
    ),
}
CHECKOUT_MESSAGES = {
    "success": gettext_lazy(
        "Thank you! Your payment is being confirmed; the new plan applies in a moment."
    ),
    "cancelled": gettext_lazy("Checkout cancelled: nothing was charged."),
}


def _meter(label: str, meter: dict[str, Any]) -> dict[str, Any]:
    used, limit = meter["used"], meter["limit"]
    percent = 0 if not limit else min(100, round(used * 100 / limit))
    state = "full" if limit is not None and used >= limit else "warn" if percent >= 80 else "ok"
    return {"label": label, "used": used, "limit": limit, "percent": percent, "state": state}


def _meters(usage: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        _meter(_("AI requests today"), usage["ai_requests"]),
        _meter(_("AI tokens today"), usage["ai_tokens"]),
        _meter(_("Channels"), usage["channels"]),
        _meter(_("Members"), usage["agents"]),
    ]


def _action(plan: plans.Plan, current: str, subscription: Subscription | None) -> str:
    """What choosing ``plan`` means: current, upgrade, downgrade (to a paid plan) or cancel
    (back to Free at the end of the paid period)."""
    if plan.code == current:
        return "current"
    if not plan.is_paid:
        live = subscription is not None and subscription.is_live
        return "cancel" if live and not subscription.cancel_at_period_end else "none"
    return "upgrade" if plans.rank(plan.code) > plans.rank(current) else "downgrade"


def _plan_cards(current: str, subscription: Subscription | None) -> list[dict[str, Any]]:
    live_provider = subscription.provider if subscription and subscription.is_live else None
    cards = []
    for entry in selectors.plan_catalogue():
        plan = plans.get(entry["code"])
        providers = [name for name in entry["providers"] if live_provider in (None, name)]
        cards.append(
            {
                **entry,
                "action": _action(plan, current, subscription),
                "pay_with": [(name, Provider(name).label) for name in providers],
            }
        )
    return cards


def _page(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    overview = selectors.billing_overview_for(user=request.user, at=timezone.now())
    subscription = overview["subscription"]
    current = overview["plan"]["code"]
    checkout = request.GET.get("checkout", "")
    context = {
        "nav": "billing",
        "overview": overview,
        "plan": overview["plan"],
        "subscription": subscription,
        "meters": _meters(overview["usage"]),
        "cards": _plan_cards(current, subscription),
        "invoices": selectors.invoices_for(user=request.user)[:24],
        "checkout_message": CHECKOUT_MESSAGES.get(checkout, ""),
        "error": error,
    }
    return render(request, "billing/settings_billing.html", context, status=status)


@admin_required
@require_GET
def billing(request: HttpRequest) -> HttpResponse:
    return _page(request)


def _refused(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return _page(request, error=service_message(exc, SERVICE_MESSAGES), status=exc.status_code)


@admin_required
@require_POST
def subscribe(request: HttpRequest) -> HttpResponse:
    """Upgrade or downgrade: a checkout for a new subscription, else the change itself."""
    plan, provider_name = request.POST.get("plan", ""), request.POST.get("provider", "")
    if provider_name not in Provider.values:
        return _page(request, error=_("Choose how to pay."), status=400)
    try:
        result = services.subscription_subscribe(
            by=request.user, provider_name=provider_name, plan=plan
        )
    except ApplicationError as exc:
        return _refused(request, exc)
    if result.checkout_url:
        return redirect(result.checkout_url)
    name = plans.get(plan).name
    messages.success(request, _("The workspace is now on the %(plan)s plan.") % {"plan": name})
    return redirect("settings-billing")


@admin_required
@require_POST
def cancel(request: HttpRequest) -> HttpResponse:
    try:
        subscription = services.subscription_cancel(by=request.user)
    except ApplicationError as exc:
        return _refused(request, exc)
    when = subscription.current_period_end
    if when:
        day = formats.date_format(timezone.localtime(when), "DATE_FORMAT")
        text = _("The subscription ends on %(day)s; the workspace then moves to Free.") % {
            "day": day
        }
    else:
        text = _("The subscription ends with the paid period; the workspace then moves to Free.")
    messages.success(request, text)
    return redirect("settings-billing")


@admin_required
@require_POST
def portal(request: HttpRequest) -> HttpResponse:
    try:
        return redirect(services.billing_portal_url(by=request.user))
    except ApplicationError as exc:
        return _refused(request, exc)


@member_required
@require_POST
def notice_dismiss(request: HttpRequest, notice_id) -> HttpResponse:
    try:
        services.notice_dismiss(user=request.user, notice_id=notice_id)
    except NotFoundError as exc:
        raise Http404 from exc
    back = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return redirect(back if allowed and back.startswith("/") else "inbox")
