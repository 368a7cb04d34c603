"""Reads of conversations data. The only place that decides who sees what.

Admins see their whole workspace. Agents see conversations assigned to them and, when the
workspace setting ``agents_see_unassigned`` is on, the unassigned queue. Anything outside a
user's scope does not exist for them: lookups raise NotFoundError (404), never 403.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from accounts.models import User
from conversations.models import SEARCH_CONFIG, Contact, Conversation, Event, Message, Tag
from flame.exceptions import NotFoundError

AGENTS_SEE_UNASSIGNED = "agents_see_unassigned"


def agents_see_unassigned(workspace) -> bool:
    return bool(workspace.setting(AGENTS_SEE_UNASSIGNED, False))


def conversation_scope(user: User) -> Q:
    """The conversations ``user`` may see, as a filter on Conversation."""
    if user.workspace_id is None or not user.is_active:
        return Q(pk__in=[])
    in_workspace = Q(workspace_id=user.workspace_id)
    if user.is_workspace_admin:
        return in_workspace
    visible = Q(assigned_agent_id=user.pk)
    if agents_see_unassigned(user.workspace):
        visible |= Q(assigned_agent__isnull=True)
    return in_workspace & visible


def _with_relations(queryset: QuerySet[Conversation]) -> QuerySet[Conversation]:
    return queryset.select_related(
        "contact", "assigned_agent", "assigned_assistant"
    ).prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))


@dataclass(frozen=True)
class ConversationFilters:
    status: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    platform: tuple[str, ...] = ()
    tag: str | None = None
    assigned: str | None = None  # "me", "none" or a user id
    search: str | None = None


def _search_terms(text: str) -> list[str]:
    return re.findall(r"\w+", text, flags=re.UNICODE)[:8]


def _prefix_query(terms: list[str]) -> SearchQuery:
    # Every word must match, each as a prefix ("jua" finds "Juan"): typed search-as-you-go.
    return SearchQuery(
        " & ".join(f"{term}:*" for term in terms), config=SEARCH_CONFIG, search_type="raw"
    )


def _contains_all(terms: list[str], fields: tuple[str, ...]) -> Q:
    condition = Q()
    for term in terms:
        any_field = Q()
        for field in fields:
            any_field |= Q(**{f"{field}__icontains": term})
        condition &= any_field
    return condition


def _search_filter(text: str) -> Q:
    """Contact name / phone / e-mail or message text, every word present.

    Messages, the big table, go through the GIN full-text index on PostgreSQL. Contact fields
    are matched by substring as well, because people search by a fragment of a phone number or
    e-mail address, which full-text tokens (whole addresses, whole numbers) do not match; that
    check is cheap since it only looks at each candidate conversation's own contact.
    """
    terms = _search_terms(text)
    if not terms:
        return Q()
    contact_fields = ("name", "email", "phone")
    contacts = Contact.objects.filter(
        _contains_all(terms, contact_fields), pk=OuterRef("contact_id")
    )
    if connection.vendor == "postgresql":
        # An uncorrelated semi-join, so the planner starts from the GIN index of messages.
        matching = Message.objects.annotate(
            document=SearchVector("content", config=SEARCH_CONFIG)
        ).filter(document=_prefix_query(terms))
        return Q(Exists(contacts)) | Q(pk__in=matching.values("conversation_id"))
    messages = Message.objects.filter(
        _contains_all(terms, ("content",)), conversation_id=OuterRef("pk")
    )
    return Q(Exists(contacts)) | Q(Exists(messages))


def _assigned_filter(user: User, assigned: str) -> Q:
    if assigned == "me":
        return Q(assigned_agent_id=user.pk)
    if assigned == "none":
        return Q(assigned_agent__isnull=True)
    return Q(assigned_agent_id=assigned)


def _tag_filter(tag: str) -> Q:
    try:
        return Q(tags__id=uuid.UUID(tag))
    except ValueError:
        return Q(tags__name__iexact=tag)


def conversation_list_for(
    *, user: User, filters: ConversationFilters | None = None
) -> QuerySet[Conversation]:
    filters = filters or ConversationFilters()
    condition = conversation_scope(user)
    for field in ("status", "priority", "platform"):
        values = getattr(filters, field)
        if values:
            condition &= Q(**{f"{field}__in": values})
    if filters.assigned:
        condition &= _assigned_filter(user, filters.assigned)
    if filters.search:
        condition &= _search_filter(filters.search)
    queryset = Conversation.objects.filter(condition)
    if filters.tag:
        # A subquery keeps one row per conversation (a join on tags could repeat rows).
        queryset = queryset.filter(
            pk__in=Conversation.objects.filter(_tag_filter(filters.tag)).values("pk")
        )
    return _with_relations(queryset)


def conversation_get_for(*, user: User, conversation_id, for_update: bool = False) -> Conversation:
    queryset = Conversation.objects.filter(conversation_scope(user), pk=conversation_id)
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    conversation = _with_relations(queryset).first()
    if conversation is None:
        raise NotFoundError("Conversation not found.")
    return conversation


def message_list_for(*, user: User, conversation_id) -> QuerySet[Message]:
    conversation = conversation_get_for(user=user, conversation_id=conversation_id)
    return Message.objects.filter(conversation=conversation)


def message_in_conversation(*, conversation: Conversation, message_id) -> Message | None:
    """A message of a conversation the caller already resolved in its scope."""
    return Message.objects.filter(pk=message_id, conversation=conversation).first()


def event_list_for(*, user: User, after: int) -> QuerySet[Event]:
    """Events the user would have received live, in order, after ``after``."""
    if user.workspace_id is None:
        return Event.objects.none()
    mine = Q(audience=Event.Audience.USER, user_id=user.pk)
    workspace_wide = Q(audience=Event.Audience.WORKSPACE)
    if user.is_workspace_admin:
        visible = mine | workspace_wide | Q(audience=Event.Audience.CONVERSATION)
    else:
        conversations = Q(audience=Event.Audience.CONVERSATION, assigned_agent_id=user.pk)
        if agents_see_unassigned(user.workspace):
            conversations |= Q(audience=Event.Audience.CONVERSATION, assigned_agent_id__isnull=True)
        visible = mine | workspace_wide | conversations
    return Event.objects.filter(visible, workspace_id=user.workspace_id, id__gt=after).order_by(
        "id"
    )


def tag_list_for(*, user: User) -> QuerySet[Tag]:
    return (
        Tag.objects.filter(workspace_id=user.workspace_id)
        if user.workspace_id
        else Tag.objects.none()
    )


def tag_get_for(*, user: User, tag_id) -> Tag:
    tag = tag_list_for(user=user).filter(pk=tag_id).first()
    if tag is None:
        raise NotFoundError("Tag not found.")
    return tag


def contact_list_for(*, user: User, search: str | None = None) -> QuerySet[Contact]:
    if user.workspace_id is None:
        return Contact.objects.none()
    queryset = Contact.objects.filter(workspace_id=user.workspace_id)
    if not user.is_workspace_admin:
        visible = Conversation.objects.filter(conversation_scope(user), contact_id=OuterRef("pk"))
        queryset = queryset.filter(Exists(visible))
    terms = _search_terms(search or "")
    if terms:
        queryset = queryset.filter(_contains_all(terms, ("name", "email", "phone")))
    return queryset.prefetch_related("identities")


def contact_get_for(*, user: User, contact_id) -> Contact:
    contact = contact_list_for(user=user).filter(pk=contact_id).first()
    if contact is None:
        raise NotFoundError("Contact not found.")
    return contact
