"""The duplicate contacts page (``/inbox/contacts/duplicates/``): the suggested pairs with
Merge (choosing the contact to keep) and Not the same person, and the recent merges with Undo
until their deadline. Members of either role; the same selectors and services as the API, and
POST/redirect/GET: a refusal shows the page again with the reason, having changed nothing."""

from __future__ import annotations

import uuid
import zoneinfo

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from accounts.web.access import member_required
from conversations import selectors, services
from conversations.models import Contact, ContactMerge
from flame.exceptions import ApplicationError, NotFoundError
from flame.forms import service_message

RECENT_MERGES = 20

SERVICE_MESSAGES = {
    "contact_already_merged": gettext_lazy("One of these contacts was merged already."),
    "contact_same_channel": gettext_lazy(
        "Both contacts have their own account on the same channel, so they cannot be merged."
    ),
    "contact_open_conversations_clash": gettext_lazy(
        "Both contacts have an open conversation on the same channel: resolve one first."
    ),
    "contact_merge_undone": gettext_lazy("This merge was undone already."),
    "contact_merge_undo_expired": gettext_lazy(
        "This merge can no longer be undone: its undo period is over."
    ),
    "contact_merge_undo_later_first": gettext_lazy(
        "The contact kept was merged into another one since: undo that merge first."
    ),
    "permission_denied": gettext_lazy("Only admins and the person who merged can undo a merge."),
    "not_found": gettext_lazy("This merge is not available to you."),
}


class PairForm(forms.Form):
    """Two contacts of a suggestion; ``keep`` (merging only) names the one that stays."""

    first = forms.UUIDField()
    second = forms.UUIDField()
    keep = forms.UUIDField(required=False)

    def clean(self):
        cleaned = super().clean()
        keep = cleaned.get("keep")
        if keep is not None and keep not in (cleaned.get("first"), cleaned.get("second")):
            raise forms.ValidationError(_("Choose one of the two contacts to keep."))
        return cleaned


def _page(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    focus = _focused_contact(request)
    pairs = selectors.contact_duplicates_for(
        user=request.user, contact_id=focus.pk if focus else None
    )
    merges = list(selectors.contact_merge_list_for(user=request.user)[:RECENT_MERGES])
    context = {
        "nav": "inbox",
        "focus": focus,
        "pairs": pairs,
        "merges": [_merge_row(merge, request.user) for merge in merges],
        "undo_days": settings.CONTACT_MERGE_UNDO_DAYS,
        "error": error,
    }
    return render(request, "conversations/contact_duplicates.html", context, status=status)


def _focused_contact(request: HttpRequest) -> Contact | None:
    """``?contact=<id>`` (the inbox's "Possible duplicate" link): that contact's suggestions;
    a contact the user does not see (or no longer exists, merged) shows every suggestion."""
    try:
        contact_id = uuid.UUID(request.GET.get("contact", ""))
        return selectors.contact_get_for(user=request.user, contact_id=contact_id)
    except (ValueError, NotFoundError):
        return None


def _merge_row(merge: ContactMerge, user: User) -> dict:
    return {
        "merge": merge,
        "may_undo": merge.is_undoable
        and (user.is_workspace_admin or merge.merged_by_id == user.pk),
    }


@member_required
@require_GET
def duplicates(request: HttpRequest) -> HttpResponse:
    return _page(request)


def _pair(request: HttpRequest) -> tuple[PairForm, Contact, Contact] | None:
    form = PairForm(request.POST)
    if not form.is_valid():
        return None
    try:
        first, second = (
            selectors.contact_get_for(user=request.user, contact_id=form.cleaned_data[name])
            for name in ("first", "second")
        )
    except NotFoundError:
        return None
    return form, first, second


@member_required
@require_POST
def merge(request: HttpRequest) -> HttpResponse:
    found = _pair(request)
    if found is None or found[0].cleaned_data["keep"] is None:
        return _page(request, error=_("These contacts can no longer be merged."), status=400)
    form, first, second = found
    kept_first = form.cleaned_data["keep"] == first.pk
    primary, secondary = (first, second) if kept_first else (second, first)
    try:
        done = services.contact_merge(by=request.user, primary=primary, secondary=secondary)
    except ApplicationError as exc:
        return _page(request, error=service_message(exc, SERVICE_MESSAGES), status=exc.status_code)
    deadline = date_format(
        timezone.localtime(done.undo_until, _zone(request.user)), "SHORT_DATETIME_FORMAT"
    )
    messages.success(
        request,
        _("%(merged)s was merged into %(kept)s. You can undo it until %(deadline)s.")
        % {"merged": _name(secondary), "kept": _name(primary), "deadline": deadline},
    )
    return redirect("contact-duplicates-page")


@member_required
@require_POST
def dismiss(request: HttpRequest) -> HttpResponse:
    found = _pair(request)
    if found is None:
        return _page(request, error=_("These contacts are no longer suggested."), status=400)
    _form, first, second = found
    try:
        services.contact_duplicate_dismiss(by=request.user, first=first, second=second)
    except ApplicationError as exc:
        return _page(request, error=service_message(exc, SERVICE_MESSAGES), status=exc.status_code)
    messages.success(request, _("They will not be suggested together again."))
    return redirect("contact-duplicates-page")


@member_required
@require_POST
def undo(request: HttpRequest, merge_id) -> HttpResponse:
    try:
        merge = selectors.contact_merge_get_for(user=request.user, merge_id=merge_id)
        services.contact_merge_undo(by=request.user, merge=merge)
    except ApplicationError as exc:
        return _page(request, error=service_message(exc, SERVICE_MESSAGES), status=exc.status_code)
    messages.success(
        request,
        _("The merge was undone: %(merged)s is a contact of its own again.")
        % {"merged": _name(merge.secondary)},
    )
    return redirect("contact-duplicates-page")


def _name(contact: Contact) -> str:
    return contact.name or contact.phone or contact.email or _("Unknown customer")


def _zone(user: User) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(user.workspace.timezone)
