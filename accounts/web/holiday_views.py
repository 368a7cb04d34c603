"""The holidays page for admins: the dates that do not follow the weekly schedules (closed all
day, or their own hours) and the public-holiday feeds, through the services the API uses
(``/api/holidays``, ``/api/holiday-feeds``). POST/redirect/GET; a refusal shows the page again
with the errors and the service's status, having changed nothing."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts import calendar, selectors, services
from accounts.models import DateOverride, HolidayFeed
from accounts.web.access import admin_required
from accounts.web.forms import DateOverrideForm, HolidayFeedForm, HolidayFileForm
from flame.exceptions import ApplicationError, NotFoundError
from flame.forms import add_service_errors, form_refusal, service_message

SERVICE_MESSAGES = {
    "permission_denied": gettext_lazy("Only workspace admins can do this."),
    "date_taken": gettext_lazy("This date already has its own hours: change that entry instead."),
    "feed_exists": gettext_lazy("This workspace already has a feed with this address."),
    "feed_disabled": gettext_lazy("Turn the feed on before refreshing it."),
    "file": gettext_lazy("The file is not an iCalendar (.ics) calendar, or it is too large."),
    # The form asks for both hours itself, so the service's only refusal left on them is this.
    "closes": gettext_lazy("Must be after the opening time (the hours end by midnight)."),
    "url": gettext_lazy(
        "Use a public https:// or webcal:// address (private and local addresses are refused)."
    ),
}
# How far ahead the page lists dates.
SHOWN_AHEAD = timedelta(days=365)


def _override_or_404(request: HttpRequest, override_id) -> DateOverride:
    try:
        return selectors.date_override_get_for(actor=request.user, override_id=override_id)
    except NotFoundError as exc:
        raise Http404 from exc


def _feed_or_404(request: HttpRequest, feed_id) -> HolidayFeed:
    try:
        return selectors.holiday_feed_get_for(actor=request.user, feed_id=feed_id)
    except NotFoundError as exc:
        raise Http404 from exc


def _page(
    request: HttpRequest,
    *,
    form: DateOverrideForm | None = None,
    feed_form: HolidayFeedForm | None = None,
    file_form: HolidayFileForm | None = None,
    status: int = 200,
) -> HttpResponse:
    workspace = request.user.workspace
    today = calendar.today(workspace, timezone.now())
    dates = selectors.date_override_list_for(
        actor=request.user, first=today, last=today + SHOWN_AHEAD
    )
    context = {
        "nav": "workspace",
        "workspace": workspace,
        "today": today,
        "form": form or DateOverrideForm(),
        "feed_form": feed_form or HolidayFeedForm(),
        "file_form": file_form or HolidayFileForm(),
        "dates": list(dates),
        "feeds": list(selectors.holiday_feed_list_for(actor=request.user)),
    }
    return render(request, "accounts/settings_holidays.html", context, status=status)


@admin_required
@require_http_methods(["GET", "POST"])
def holidays(request: HttpRequest) -> HttpResponse:
    """The coming year's dates and the feeds; POST adds a date."""
    if request.method == "GET":
        return _page(request)
    form = DateOverrideForm(request.POST)
    create = partial(services.date_override_create, by=request.user)
    if status := form_refusal(form, create, SERVICE_MESSAGES):
        return _page(request, form=form, status=status)
    messages.success(request, _("Date added."))
    return redirect("settings-holidays")


def _date_page(request, override, form, status: int = 200) -> HttpResponse:
    context = {"nav": "workspace", "override": override, "form": form}
    return render(request, "accounts/settings_holiday.html", context, status=status)


@admin_required
@require_http_methods(["GET", "POST"])
def holiday(request: HttpRequest, override_id) -> HttpResponse:
    """Edit one date (a feed's date becomes the admin's: no refresh changes it again)."""
    override = _override_or_404(request, override_id)
    if request.method == "GET":
        form = DateOverrideForm(initial=DateOverrideForm.initial_for(override))
        return _date_page(request, override, form)
    form = DateOverrideForm(request.POST)
    update = partial(services.date_override_update, by=request.user, override=override)
    if status := form_refusal(form, update, SERVICE_MESSAGES):
        return _date_page(request, override, form, status=status)
    messages.success(request, _("Date saved."))
    return redirect("settings-holidays")


@admin_required
@require_POST
def holiday_delete(request: HttpRequest, override_id) -> HttpResponse:
    override = _override_or_404(request, override_id)
    services.date_override_delete(by=request.user, override=override)
    messages.success(request, _("The date follows the weekly schedules again."))
    return redirect("settings-holidays")


@admin_required
@require_POST
def holiday_feeds(request: HttpRequest) -> HttpResponse:
    """Add a feed (fetched once it is saved)."""
    form = HolidayFeedForm(request.POST)
    create = partial(services.holiday_feed_create, by=request.user)
    if status := form_refusal(form, create, SERVICE_MESSAGES):
        return _page(request, feed_form=form, status=status)
    messages.success(request, _("Feed added. Its dates are fetched now and every day."))
    return redirect("settings-holidays")


@admin_required
@require_POST
def holiday_feed_refresh(request: HttpRequest, feed_id) -> HttpResponse:
    feed = _feed_or_404(request, feed_id)
    try:
        outcome = services.holiday_feed_refresh(feed=feed, by=request.user)
    except ApplicationError as exc:
        messages.error(request, service_message(exc, SERVICE_MESSAGES))
        return redirect("settings-holidays")
    if outcome.error:
        text = _("The feed could not be read: %(error)s") % {"error": outcome.error}
        messages.error(request, text)
    else:
        counts = {"added": len(outcome.added), "removed": len(outcome.removed)}
        messages.success(
            request, _("Feed refreshed: %(added)s dates added, %(removed)s removed.") % counts
        )
    return redirect("settings-holidays")


@admin_required
@require_POST
def holiday_feed_toggle(request: HttpRequest, feed_id) -> HttpResponse:
    """Turn a feed off (its dates from today on are removed) or on again (fetched again)."""
    feed = _feed_or_404(request, feed_id)
    services.holiday_feed_update(by=request.user, feed=feed, enabled=not feed.enabled)
    if feed.enabled:
        messages.success(request, _("Feed turned on."))
    else:
        messages.success(request, _("Feed turned off; its coming dates are removed."))
    return redirect("settings-holidays")


@admin_required
@require_POST
def holiday_feed_delete(request: HttpRequest, feed_id) -> HttpResponse:
    feed = _feed_or_404(request, feed_id)
    services.holiday_feed_delete(by=request.user, feed=feed)
    messages.success(request, _("Feed deleted with its dates."))
    return redirect("settings-holidays")


@admin_required
@require_POST
def holiday_import(request: HttpRequest) -> HttpResponse:
    """Import an uploaded .ics file once (its dates become the admin's own)."""
    form = HolidayFileForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, file_form=form, status=400)
    upload = form.cleaned_data["file"]
    body = upload.read(settings.HOLIDAY_FEEDS_MAX_BYTES + 1)
    try:
        added = services.date_overrides_import(by=request.user, body=body)
    except ApplicationError as exc:
        add_service_errors(form, exc, SERVICE_MESSAGES)
        return _page(request, file_form=form, status=exc.status_code)
    messages.success(request, _("%(count)s dates imported.") % {"count": len(added)})
    return redirect("settings-holidays")
