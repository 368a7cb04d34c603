"""Reads of conversations data. The only place that decides who sees what.

Admins see their whole workspace. Agents see conversations assigned to them and, when the
workspace setting ``agents_see_unassigned`` is on, the unassigned queue. Anything outside a
user's scope does not exist for them: lookups raise NotFoundError (404), never 403.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    prefetch_related_objects,
)

from accounts.models import User
from accounts.switches import AGENTS_SEE_UNASSIGNED
from conversations import audience, matching
from conversations.models import (
    SEARCH_CONFIG,
    Attachment,
    Contact,
    ContactAttribute,
    ContactDuplicateDismissal,
    ContactIdentity,
    ContactMerge,
    Conversation,
    Event,
    Message,
    Tag,
)
from conversations.search import (
    ExistsRowByRow,
    Fold,
    FoldedContactText,
    contains_every_term,
    search_terms,
)
from flame.exceptions import NotFoundError


def agents_see_unassigned(workspace) -> bool:
    return AGENTS_SEE_UNASSIGNED.is_on(workspace)


def conversation_scope(user: User) -> Q:
    """The conversations ``user`` may see, as a filter on Conversation (conversations.audience
    holds the rule)."""
    return audience.conversations_visible(audience.Viewer.of(user))


def _with_relations(queryset: QuerySet[Conversation]) -> QuerySet[Conversation]:
    return queryset.select_related(
        "contact", "assigned_agent", "assigned_assistant"
    ).prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))


@dataclass(frozen=True)
class ConversationFilters:
    status: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()  # the effective priority (Conversation.priority)
    ai_priority: tuple[str, ...] = ()  # what the AI suggested; "" = not analysed yet
    platform: tuple[str, ...] = ()
    tag: str | None = None
    assigned: str | None = None  # "me", "none" or a user id
    waiting: bool | None = None  # waiting for a human (Conversation.is_waiting)
    snoozed: bool | None = None
    search: str | None = None


def waiting_for_human() -> Q:
    """Open, and the customer's last words have no agent answer (assistant replies do not
    count); the one definition behind the inbox's filter, tab and badge and the dashboard."""
    return Q(waiting_since__isnull=False, status__in=Conversation.OPEN_STATUSES)


def _contact_matches(workspace_id, terms: list[str]) -> QuerySet[Contact]:
    return Contact.objects.filter(
        contains_every_term(FoldedContactText(), terms), workspace_id=workspace_id
    )


def _message_matches(workspace_id, terms: list[str]) -> QuerySet[Message]:
    messages = Message.objects.filter(workspace_id=workspace_id)
    if connection.vendor == "postgresql":
        # Every word must match, each as a prefix ("jua" finds "Juan"): search-as-you-type,
        # through the GIN index over the folded text.
        query = SearchQuery(
            " & ".join(f"{term}:*" for term in terms), config=SEARCH_CONFIG, search_type="raw"
        )
        document = SearchVector(Fold("content"), config=SEARCH_CONFIG)
        return messages.annotate(document=document).filter(document=query)
    return messages.filter(contains_every_term(Fold("content"), terms))


# How many matches the search probes for before it calls a word common (below).
SEARCH_PROBE = 2000


def _search_filter(workspace_id, text: str) -> Q:
    """Contact name / phone / e-mail or message text, every word present, accents and case
    ignored (conversations/search.py).

    Contact fields match by substring through the trigram index, because people search by a
    fragment of a phone number or an e-mail address, which full-text tokens (whole addresses,
    whole numbers) do not match; messages match through the GIN full-text index. On PostgreSQL
    one of two plans is chosen from a capped probe of both indexes (bench/inbox measures them):

    - rare words (fewer than SEARCH_PROBE matches each way): the probes already hold every
      matching conversation, and the page joins those ids by primary key;
    - common words: collecting every match (a third of a million messages for "pedido") would
      cost hundreds of ms, so the page walks the conversations in its own order and checks each
      for one matching message (or its contact, when a name fragment is common), stopping at a
      page's worth.
    """
    terms = search_terms(text)
    if not terms:
        return Q()
    contacts = _contact_matches(workspace_id, terms)
    messages = _message_matches(workspace_id, terms)
    if connection.vendor != "postgresql":
        return Q(pk__in=messages.values("conversation_id")) | Q(contact__in=contacts)
    by_message = list(messages.order_by().values_list("conversation_id", flat=True)[:SEARCH_PROBE])
    by_contact = list(
        Conversation.objects.filter(contact__in=contacts)
        .order_by()
        .values_list("pk", flat=True)[:SEARCH_PROBE]
    )
    if len(by_message) < SEARCH_PROBE and len(by_contact) < SEARCH_PROBE:
        return Q(pk__in={*by_message, *by_contact})
    # Only the side the word is common on is checked row by row; the other joins its ids.
    if len(by_message) < SEARCH_PROBE:
        message_side = Q(pk__in=set(by_message))
    else:
        message_side = Q(ExistsRowByRow(messages.filter(conversation_id=OuterRef("pk"))))
    if len(by_contact) < SEARCH_PROBE:
        contact_side = Q(pk__in=set(by_contact))
    else:
        contact_side = Q(ExistsRowByRow(contacts.filter(pk=OuterRef("contact_id"))))
    return message_side | contact_side


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
    for field in ("status", "priority", "ai_priority", "platform"):
        values = getattr(filters, field)
        if values:
            condition &= Q(**{f"{field}__in": values})
    if filters.assigned:
        condition &= _assigned_filter(user, filters.assigned)
    if filters.waiting is not None:
        condition &= waiting_for_human() if filters.waiting else ~waiting_for_human()
    if filters.snoozed is not None:
        condition &= Q(snoozed=filters.snoozed)
    if filters.search:
        condition &= _search_filter(user.workspace_id, filters.search)
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
    return Message.objects.filter(conversation=conversation).prefetch_related("attachments")


def message_in_conversation(*, conversation: Conversation, message_id) -> Message | None:
    """A message of a conversation the caller already resolved in its scope."""
    return Message.objects.filter(pk=message_id, conversation=conversation).first()


def event_list_for(*, user: User, after: int) -> QuerySet[Event]:
    """Events the user would have received live, in order, after ``after``."""
    visible = audience.events_visible(audience.Viewer.of(user))
    return Event.objects.filter(visible, id__gt=after).order_by("id")


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


def _contacts_seen_by(user: User) -> QuerySet[Contact]:
    """The contacts ``user`` may see: admins every one of their workspace, agents those of a
    conversation they see. A contact merged into another is nobody's to see (ContactMerge)."""
    if user.workspace_id is None:
        return Contact.objects.none()
    queryset = Contact.objects.filter(workspace_id=user.workspace_id, merged_into__isnull=True)
    if not user.is_workspace_admin:
        visible = Conversation.objects.filter(conversation_scope(user), contact_id=OuterRef("pk"))
        queryset = queryset.filter(Exists(visible))
    return queryset


def contact_list_for(*, user: User, search: str | None = None) -> QuerySet[Contact]:
    queryset = _contacts_seen_by(user)
    terms = search_terms(search or "")
    if terms:
        queryset = queryset.filter(contains_every_term(FoldedContactText(), terms))
    identities = ContactIdentity.objects.select_related("integration").order_by("created_at")
    return queryset.prefetch_related(Prefetch("identities", queryset=identities))


def contact_get_for(*, user: User, contact_id) -> Contact:
    contact = contact_list_for(user=user).filter(pk=contact_id).first()
    if contact is None:
        raise NotFoundError("Contact not found.")
    return contact


def conversations_locked_for(*, user: User, conversation_ids) -> list[Conversation]:
    """The conversations ``conversation_ids`` names that ``user`` may see, row-locked in id
    order (two bulk changes over overlapping sets queue instead of deadlocking); the caller
    holds the transaction and compares what it got with what it asked for."""
    queryset = Conversation.objects.filter(conversation_scope(user), pk__in=list(conversation_ids))
    return list(_with_relations(queryset.select_for_update(of=("self",)).order_by("pk")))


def unread_counts_for(*, user: User) -> dict[str, int]:
    """Open, not snoozed conversations with unread customer messages, per inbox tab (one
    query): the user's own, the unassigned queue, everything they see, and those waiting."""
    unread = Conversation.objects.filter(
        conversation_scope(user),
        status__in=Conversation.OPEN_STATUSES,
        snoozed=False,
        unread_count__gt=0,
    )
    return unread.aggregate(
        mine=Count("pk", filter=Q(assigned_agent_id=user.pk)),
        unassigned=Count("pk", filter=Q(assigned_agent__isnull=True)),
        all=Count("pk"),
        waiting=Count("pk", filter=waiting_for_human()),
    )


def mention_candidates(*, conversation: Conversation) -> QuerySet[User]:
    """The members a note in ``conversation`` may mention: those who see it
    (``audience.members_seeing``), active and with a claimed account."""
    visible = audience.members_seeing(
        assigned_agent_id=conversation.assigned_agent_id,
        sees_queue=agents_see_unassigned(conversation.workspace),
    )
    members = User.objects.filter(
        visible, workspace_id=conversation.workspace_id, is_active=True, is_pending=False
    )
    return members.order_by("name", "email")


def activity_list_for(*, user: User, conversation_id) -> QuerySet[Event]:
    """The history lines of a conversation the user may see (404 otherwise), oldest first."""
    conversation = conversation_get_for(user=user, conversation_id=conversation_id)
    return Event.objects.filter(kind=Event.ACTIVITY, conversation_id=conversation.pk).order_by("id")


def contact_conversations_for(*, user: User, contact_id) -> QuerySet[Conversation]:
    """The contact's conversations the user may see, newest first (404 for a contact outside
    their sight)."""
    contact = contact_get_for(user=user, contact_id=contact_id)
    mine = Conversation.objects.filter(conversation_scope(user), contact=contact)
    return _with_relations(mine).order_by("-last_message_at", "-id")


def contact_attribute_list_for(*, user: User) -> QuerySet[ContactAttribute]:
    if user.workspace_id is None:
        return ContactAttribute.objects.none()
    return ContactAttribute.objects.filter(workspace_id=user.workspace_id)


def contact_attribute_get_for(*, user: User, attribute_id) -> ContactAttribute:
    attribute = contact_attribute_list_for(user=user).filter(pk=attribute_id).first()
    if attribute is None:
        raise NotFoundError("Contact attribute not found.")
    return attribute


def attachment_get_for(*, user: User, attachment_id) -> Attachment:
    """A file of a message in a conversation ``user`` sees; NotFoundError otherwise."""
    attachment = (
        Attachment.objects.filter(
            pk=attachment_id,
            message__conversation__in=Conversation.objects.filter(conversation_scope(user)),
        )
        .select_related("message__conversation")
        .first()
    )
    if attachment is None:
        raise NotFoundError("Attachment not found.")
    return attachment


# --- duplicate contacts and merges ---------------------------------------------------------------

DUPLICATES_LIMIT = 50
# A contact annotated with its ``phone_key``, ``email_key`` (and, once fetched, its
# ``conversation_total``): attributes the type checker cannot see on Contact.
KeyedContact = Any
REASON_PHONE = "phone"
REASON_EMAIL = "email"


@dataclass(frozen=True)
class DuplicatePair:
    """Two contacts that look like one customer (``reasons``: the same phone number, the same
    e-mail address). ``primary`` is the one suggested to keep: more conversations, else older.
    Each contact carries ``conversation_count``: its conversations the reader sees."""

    primary: Contact
    secondary: Contact
    reasons: tuple[str, ...]


def contact_duplicates_for(
    *, user: User, contact_id=None, limit: int = DUPLICATES_LIMIT
) -> list[DuplicatePair]:
    """Suggested duplicates among the contacts ``user`` sees, newest first; with
    ``contact_id``, only that contact's (NotFoundError when the user does not see it).

    Contacts are grouped by their phone and e-mail keys (``conversations/matching.py``) in
    the database, never compared two by two: at 100,000 contacts it is one grouped scan for
    the keys shared, then the few contacts holding them. Within a group every contact is
    paired with the best-ranked one it was not dismissed with, so a key shared by many makes
    one pair each, not every pair.
    """
    keyed = _keyed(_contacts_seen_by(user))
    if contact_id is not None:
        holders = _holders_of_contact_keys(keyed, contact_id)
    else:
        holders = _holders_of_shared_keys(keyed, limit)
    members = list(holders.annotate(conversation_total=Count("conversations")).order_by())
    if len(members) < 2:
        return []
    pairs = _pairs(members, _dismissed_among(members))
    if contact_id is not None:
        wanted = str(contact_id)
        pairs = [p for p in pairs if wanted in (str(p.primary.pk), str(p.secondary.pk))]
    pairs = sorted(pairs, key=_newest_first)[:limit]
    _describe([contact for pair in pairs for contact in (pair.primary, pair.secondary)], user)
    return pairs


def _keyed(queryset: QuerySet[KeyedContact]) -> QuerySet[KeyedContact]:
    return queryset.annotate(phone_key=matching.phone_key(), email_key=matching.email_key())


def _holders_of_contact_keys(keyed: QuerySet[KeyedContact], contact_id) -> QuerySet[KeyedContact]:
    """The contact and those sharing its phone or e-mail key: index probes on both keys."""
    own = keyed.filter(pk=contact_id).values("phone_key", "email_key").first()
    if own is None:
        raise NotFoundError("Contact not found.")
    match = Q(pk=contact_id)
    if re.match(matching.PHONE_KEY_PATTERN, own["phone_key"]):
        match |= Q(phone_key=own["phone_key"])
    if own["email_key"]:
        match |= Q(email_key=own["email_key"])
    return keyed.filter(match)


def _holders_of_shared_keys(keyed: QuerySet[KeyedContact], limit: int) -> QuerySet[KeyedContact]:
    """The contacts holding a phone or e-mail key another contact also holds; at most
    ``limit`` keys of each kind, those with the newest holder first."""
    phones = _shared_keys(keyed, "phone_key", matching.usable_phone_key(), limit)
    emails = _shared_keys(keyed, "email_key", matching.usable_email_key(), limit)
    return keyed.filter(Q(phone_key__in=phones) | Q(email_key__in=emails))


def _shared_keys(keyed: QuerySet[KeyedContact], name: str, usable: Q, limit: int) -> list[str]:
    grouped = (
        keyed.filter(usable)
        .order_by()
        .values(name)
        .annotate(holders=Count("pk"), newest=Max("created_at"))
        .filter(holders__gt=1)
        .order_by("-newest", name)
    )
    return [row[name] for row in grouped[:limit]]


def _dismissed_among(members: list[KeyedContact]) -> set[tuple]:
    ids = [member.pk for member in members]
    dismissals = ContactDuplicateDismissal.objects.filter(first_id__in=ids, second_id__in=ids)
    return set(dismissals.values_list("first_id", "second_id"))


def contact_pair_key(first_id, second_id) -> tuple:
    """A pair of contacts in id order, as ``ContactDuplicateDismissal`` stores it."""
    return (first_id, second_id) if first_id < second_id else (second_id, first_id)


def _rank(contact: KeyedContact) -> tuple:
    return (-contact.conversation_total, contact.created_at, str(contact.pk))


def _groups(members: list[KeyedContact]) -> dict[tuple[str, str], list[KeyedContact]]:
    groups: dict[tuple[str, str], list[KeyedContact]] = {}
    for contact in sorted(members, key=_rank):
        if re.match(matching.PHONE_KEY_PATTERN, contact.phone_key):
            groups.setdefault((REASON_PHONE, contact.phone_key), []).append(contact)
        if contact.email_key:
            groups.setdefault((REASON_EMAIL, contact.email_key), []).append(contact)
    return groups


def _pairs(members: list[KeyedContact], dismissed: set[tuple]) -> list[DuplicatePair]:
    found: dict[tuple, tuple[Contact, Contact, set[str]]] = {}
    for (reason, _key), ranked in _groups(members).items():
        for index, contact in enumerate(ranked[1:], start=1):
            keeper = next(
                (
                    other
                    for other in ranked[:index]
                    if contact_pair_key(other.pk, contact.pk) not in dismissed
                ),
                None,
            )
            if keeper is not None:
                entry = found.setdefault(
                    contact_pair_key(keeper.pk, contact.pk), (keeper, contact, set())
                )
                entry[2].add(reason)
    return [
        DuplicatePair(primary=keeper, secondary=other, reasons=tuple(sorted(reasons)))
        for keeper, other, reasons in found.values()
    ]


def _newest_first(pair: DuplicatePair) -> tuple:
    newest = max(pair.primary.created_at, pair.secondary.created_at)
    return (-newest.timestamp(), str(pair.primary.pk), str(pair.secondary.pk))


def _describe(contacts: list[Contact], user: User) -> None:
    """Each contact's channels and the number of its conversations ``user`` sees (two
    queries, whatever the number of contacts)."""
    identities = ContactIdentity.objects.select_related("integration").order_by("created_at")
    prefetch_related_objects(contacts, Prefetch("identities", queryset=identities))
    counts = dict(
        Conversation.objects.filter(
            conversation_scope(user), contact_id__in={contact.pk for contact in contacts}
        )
        .order_by()
        .values("contact_id")
        .annotate(total=Count("pk"))
        .values_list("contact_id", "total")
    )
    for contact in contacts:
        contact.conversation_count = counts.get(contact.pk, 0)  # type: ignore[attr-defined]


def contact_merge_list_for(*, user: User) -> QuerySet[ContactMerge]:
    """Merges ``user`` may see and undo: admins every one of their workspace, agents theirs."""
    if user.workspace_id is None:
        return ContactMerge.objects.none()
    merges = ContactMerge.objects.filter(workspace_id=user.workspace_id)
    if not user.is_workspace_admin:
        merges = merges.filter(merged_by_id=user.pk)
    return merges.select_related("primary", "secondary", "merged_by", "undone_by")


def contact_merge_get_for(*, user: User, merge_id) -> ContactMerge:
    merge = contact_merge_list_for(user=user).filter(pk=merge_id).first()
    if merge is None:
        raise NotFoundError("Contact merge not found.")
    return merge
