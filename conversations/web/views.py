"""The agent inbox page: server-rendered first paint, then static/js/inbox/ takes over."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.web.access import member_required
from conversations import selectors
from conversations.models import Conversation
from conversations.types import Platform
from conversations.web import inbox as page
from flame.exceptions import NotFoundError


def _open_conversation(request: HttpRequest, conversation_id) -> Conversation | None:
    if conversation_id is None:
        return None
    try:
        return selectors.conversation_get_for(user=request.user, conversation_id=conversation_id)
    except NotFoundError as exc:
        raise Http404("Conversation not found.") from exc


@member_required
def inbox(request: HttpRequest, conversation_id=None) -> HttpResponse:
    """``/inbox/`` and the deep link ``/inbox/<id>/`` (404 outside the user's scope)."""
    conversation = _open_conversation(request, conversation_id)
    resume_from = page.last_event_id(request.user)
    query = page.inbox_query(request.user, request.GET)
    conversations, next_cursor = page.first_page(request, query)
    tags = list(selectors.tag_list_for(user=request.user))
    context = {
        "nav": "inbox",
        "query": query,
        "conversations": conversations,
        "open_conversation": conversation,
        "tabs": page.view_tabs(request.user, query, request.GET),
        "clear_href": page.clear_filters_href(query),
        "status_choices": page.STATUS_CHOICES,
        "platform_choices": Platform.choices,
        "priority_choices": Conversation.Priority.choices,
        "conversation_status_choices": Conversation.Status.choices,
        "tags": tags,
        "boot": page.boot_data(
            user=request.user,
            query=query,
            next_cursor=next_cursor,
            tags=tags,
            open_conversation=conversation,
            last_event_id=resume_from,
        ),
    }
    return render(request, "conversations/inbox.html", context)
