"""What the inbox page shows on first paint: the list filters, the first page, the boot data.

Every read goes through ``conversations.selectors`` (the same scoping as the API), and the
first page is cut by the API's own cursor pagination, so the cursor handed to the page's
JavaScript continues exactly where the server-rendered list stops.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from django.http import HttpRequest, QueryDict
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request

from accounts.models import User
from accounts.selectors import user_list_for
from conversations import hooks, realtime, selectors
from conversations.api.views import ConversationPagination
from conversations.models import Conversation
from conversations.serializers import conversation_data
from conversations.types import Platform

LIST_PAGE_SIZE = 30

VIEW_MINE = "mine"
VIEW_UNASSIGNED = "unassigned"
VIEW_ALL = "all"
# Every open conversation the user can see whose customer waits for an agent's answer
# (selectors.waiting_for_human): an assistant's reply does not take it off this list.
VIEW_WAITING = "waiting"

# The status filter offers "open" (the working queue: not snoozed) and "snoozed" besides each
# single status.
STATUS_OPEN = "open"
STATUS_SNOOZED = "snoozed"
STATUS_ANY = "any"
STATUS_CHOICES = (
    (STATUS_OPEN, _("Open")),
    (STATUS_SNOOZED, _("Snoozed")),
    *Conversation.Status.choices,
    (STATUS_ANY, _("Any status")),
)


class _FirstPage(ConversationPagination):
    page_size = LIST_PAGE_SIZE

    def get_page_size(self, request) -> int:
        return self.page_size


@dataclass(frozen=True)
class InboxQuery:
    """The list the user asked for, from the page's query string (unknown values ignored)."""

    view: str
    status: str
    platform: str = ""
    priority: str = ""
    tag: str = ""
    search: str = ""

    def selector_filters(self) -> selectors.ConversationFilters:
        statuses: tuple[str, ...] = ()
        if self.status in (STATUS_OPEN, STATUS_SNOOZED):
            statuses = tuple(Conversation.OPEN_STATUSES)
        elif self.status != STATUS_ANY:
            statuses = (self.status,)
        snoozed = {STATUS_OPEN: False, STATUS_SNOOZED: True}.get(self.status)
        assigned = {VIEW_MINE: "me", VIEW_UNASSIGNED: "none"}.get(self.view)
        return selectors.ConversationFilters(
            status=statuses,
            platform=(self.platform,) if self.platform else (),
            priority=(self.priority,) if self.priority else (),
            tag=self.tag or None,
            assigned=assigned,
            waiting=True if self.view == VIEW_WAITING else None,
            snoozed=snoozed,
            search=self.search or None,
        )

    def api_params(self) -> dict[str, str]:
        """The same list as ``/api/conversations`` query parameters (for paging and matching)."""
        filters = self.selector_filters()
        params = {
            "status": ",".join(filters.status),
            "platform": self.platform,
            "priority": self.priority,
            "tag": self.tag,
            "assigned": filters.assigned or "",
            "waiting": "true" if filters.waiting else "",
            "snoozed": "" if filters.snoozed is None else str(filters.snoozed).lower(),
            "search": self.search,
        }
        return {key: value for key, value in params.items() if value}

    @property
    def is_filtered(self) -> bool:
        return bool(self.platform or self.priority or self.tag or self.search)


def available_views(user: User) -> list[tuple[str, str]]:
    """Tabs: agents have their own list (and the queue when allowed); admins also "all";
    everyone has "waiting" (for a human, among what they can see)."""
    views = [(VIEW_MINE, _("Mine"))]
    if user.is_workspace_admin or selectors.agents_see_unassigned(user.workspace):
        views.append((VIEW_UNASSIGNED, _("Unassigned")))
    if user.is_workspace_admin:
        views.append((VIEW_ALL, _("All")))
    views.append((VIEW_WAITING, _("Waiting")))
    return views


def view_tabs(user: User, query: InboxQuery, params: QueryDict) -> list[dict]:
    """The tabs as links that keep the other filters, each with its unread conversations."""
    counts = selectors.unread_counts_for(user=user)
    tabs = []
    for value, label in available_views(user):
        link = params.copy()
        link["view"] = value
        link.pop("cursor", None)
        tabs.append(
            {
                "value": value,
                "label": label,
                "href": f"{reverse('inbox')}?{link.urlencode()}",
                "current": value == query.view,
                "unread": counts[value],
            }
        )
    return tabs


def clear_filters_href(query: InboxQuery) -> str:
    return f"{reverse('inbox')}?{urlencode({'view': query.view, 'status': query.status})}"


def _choice(value: str | None, allowed) -> str:
    return value if value in allowed else ""


def _tag_id(value: str | None) -> str:
    try:
        return str(uuid.UUID(value or ""))
    except ValueError:
        return ""


def inbox_query(user: User, params: QueryDict) -> InboxQuery:
    views = [value for value, _label in available_views(user)]
    default_view = VIEW_ALL if user.is_workspace_admin else VIEW_MINE
    status = _choice(params.get("status"), dict(STATUS_CHOICES)) or STATUS_OPEN
    return InboxQuery(
        view=_choice(params.get("view"), views) or default_view,
        status=status,
        platform=_choice(params.get("platform"), dict(Platform.choices)),
        priority=_choice(params.get("priority"), dict(Conversation.Priority.choices)),
        tag=_tag_id(params.get("tag")),
        search=(params.get("search") or "").strip()[:200],
    )


def first_page(request: HttpRequest, query: InboxQuery) -> tuple[list[Conversation], str]:
    """The first page of the list and the API cursor of the next one ("" when there is none)."""
    queryset = selectors.conversation_list_for(user=request.user, filters=query.selector_filters())
    paginator = _FirstPage()
    page = paginator.paginate_queryset(queryset, Request(request))
    next_link = paginator.get_next_link()
    cursor = parse_qs(urlsplit(next_link).query).get("cursor", [""])[0] if next_link else ""
    return list(page), cursor


def members_data(user: User) -> list[dict]:
    """Colleagues' names label agent messages; admins also assign to them."""
    members = user_list_for(actor=user).filter(is_active=True).order_by("name", "email")
    return [
        {"id": str(row["id"]), "name": row["name"] or row["email"], "role": row["role"]}
        for row in members.values("id", "name", "email", "role")
    ]


def assistants_data(user: User) -> list[dict]:
    assistants = hooks.assistant_choices.ask(user=user).order_by("name")
    return [
        {"id": str(row["id"]), "name": row["name"], "type": row["type"], "status": row["status"]}
        for row in assistants.values("id", "name", "type", "status")
    ]


def boot_data(
    *,
    user: User,
    query: InboxQuery,
    next_cursor: str,
    tags: list,
    open_conversation,
    last_event_id: int,
) -> dict:
    """Everything the page's modules need to take over, passed as one JSON document."""
    return {
        "user": {
            "id": str(user.pk),
            "name": user.name or user.email,
            "is_admin": user.is_workspace_admin,
        },
        "agents_see_unassigned": selectors.agents_see_unassigned(user.workspace),
        "view": query.view,
        "filters": query.api_params(),
        "next_cursor": next_cursor,
        "page_size": LIST_PAGE_SIZE,
        "members": members_data(user),
        "assistants": assistants_data(user),
        "tags": [{"id": str(tag.pk), "name": tag.name, "color": tag.color} for tag in tags],
        "conversation": conversation_data(open_conversation) if open_conversation else None,
        "last_event_id": last_event_id,
        "poll_seconds": realtime.page_poll_seconds(),
        "channel_icons": {value: static(f"img/channels/{value}.svg") for value in Platform.values},
        "inbox_url": reverse("inbox"),
    }


def last_event_id(user: User) -> int:
    """Where the page's live updates resume: read before the list, so nothing falls between."""
    latest = selectors.event_list_for(user=user, after=0).order_by("-id").values_list("id")
    row = latest.first()
    return row[0] if row else 0
