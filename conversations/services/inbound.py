"""Customer messages arriving from a channel, stored exactly once.

One path, whatever the delivery: a webhook with one message and a batch of a hundred both go
through ``messages_receive_inbound``, which works on sets (a handful of queries per batch, not
a dozen per message). Exactly once comes from the database: the UNIQUE (integration,
external_id) key skips a message another worker or an earlier delivery already stored, and
only what was stored moves counters and publishes ``message:new``.

What happens next — an assistant's reply, the analysis, a survey answer becoming a rating — is
not the core's business: ingestion (integrations) orchestrates it around these calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from django.db import IntegrityError, transaction
from django.db.models import F, ForeignKey, Model
from django.utils import timezone

from accounts.models import User
from conversations import hooks, realtime
from conversations.models import (
    Attachment,
    Contact,
    ContactIdentity,
    Conversation,
    Message,
)
from conversations.services.attachments import attachments_create_inbound
from conversations.services.counters import count_customer_messages, customer_wrote_at
from conversations.services.events import (
    contact_created,
    contact_updated,
    conversation_created,
    message_new,
    message_new_payload,
)
from conversations.services.tags import tags_load_into
from conversations.types import InboundMessage
from flame.fields import max_length_of


@dataclass(frozen=True)
class InboundResult:
    message: Message
    created: bool


@dataclass(frozen=True)
class InboundBatch:
    """What a delivery stored: the new messages (in order) and their conversations as they are
    now, counters included, for what happens next (assistants, analysis)."""

    messages: list[Message]
    conversations: dict
    # The files of those messages, still to be downloaded (integrations fetches them).
    attachments: list[Attachment] = field(default_factory=list)


def _fitted(field: str, value: str) -> str:
    """A platform's profile value cut to our column: a long display name never loses a message."""
    return value[: max_length_of(Contact, field)]


def contact_for_identity(integration, inbound: InboundMessage) -> Contact:
    """The contact behind the platform's id for this customer, created on first contact."""
    identity = (
        ContactIdentity.objects.select_related("contact")
        .filter(integration=integration, external_id=inbound.external_contact_id)
        .first()
    )
    name = _fitted("name", inbound.contact_name)
    if identity is not None:
        contact = identity.contact
        if name and not contact.name:
            Contact.objects.filter(pk=contact.pk).update(name=name)
            contact.name = name  # the ``message:new`` payloads show this instance
            contact_updated(contact)
        _remember_username(identity, inbound.contact_username)
        return contact
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                workspace_id=integration.workspace_id,
                name=name,
                phone=_fitted("phone", inbound.contact_phone),
            )
            ContactIdentity.objects.create(
                contact=contact,
                integration=integration,
                external_id=inbound.external_contact_id,
                metadata=_username(inbound.contact_username),
            )
            contact_created(contact)
            return contact
    except IntegrityError:
        # Another worker created this identity a moment ago: use theirs.
        return ContactIdentity.objects.get(
            integration=integration, external_id=inbound.external_contact_id
        ).contact


def _username(username: str) -> dict:
    return {"username": username} if username else {}


def _remember_username(identity: ContactIdentity, username: str) -> None:
    """The customer's platform handle, kept current (Telegram users may rename themselves)."""
    if username and identity.metadata.get("username") != username:
        identity.metadata = {**identity.metadata, "username": username}
        ContactIdentity.objects.filter(pk=identity.pk).update(metadata=identity.metadata)


def open_conversation_for(
    integration, contact: Contact, *, agent: User | None = None
) -> tuple[Conversation, bool]:
    """The customer's open conversation on this channel: reuse, reopen the last, or create
    (assigned to ``agent``). The flag says whether a new conversation was created."""
    open_now = Conversation.objects.filter(
        integration=integration, contact=contact, status__in=Conversation.OPEN_STATUSES
    ).first()
    if open_now is not None:
        return open_now, False
    kept = _contact_kept(contact)
    if kept.pk != contact.pk:
        return open_conversation_for(integration, kept, agent=agent)
    last_resolved = (
        Conversation.objects.filter(
            integration=integration, contact=contact, status=Conversation.Status.RESOLVED
        )
        .order_by("-last_message_at")
        .first()
    )
    try:
        with transaction.atomic():
            if last_resolved is not None:
                Conversation.objects.filter(pk=last_resolved.pk).update(
                    status=Conversation.Status.ACTIVE, resolved_at=None
                )
                last_resolved.refresh_from_db()
                return last_resolved, False
            created = Conversation.objects.create(
                workspace_id=integration.workspace_id,
                integration=integration,
                contact=contact,
                platform=integration.platform,
                assigned_agent=agent,
                assigned_assistant_id=integration.default_assistant_id,
            )
            conversation_created(created)
            return created, True
    except IntegrityError:
        # Lost the race to open it: the partial unique index guarantees exactly one exists.
        return Conversation.objects.get(
            integration=integration, contact=contact, status__in=Conversation.OPEN_STATUSES
        ), False


def _contact_kept(contact: Contact) -> Contact:
    """The contact a conversation is opened or reopened for: ``contact``, or the one it was
    merged into after the caller read it from its identity. Locked: a merge under way
    (services/contact_merge.py) commits first and is seen, so no conversation is opened on a
    contact that no longer receives messages. Only on this path, which opens or reopens
    conversations; a customer's next messages find their open conversation above."""
    rows = Contact.objects.select_for_update().only("pk", "merged_into_id")
    with transaction.atomic():  # the caller's transaction holds the lock; alone, this block
        locked = rows.get(pk=contact.pk)
        while locked.merged_into_id is not None:
            locked = rows.get(pk=locked.merged_into_id)
    return contact if locked.pk == contact.pk else Contact.objects.get(pk=locked.pk)


def _inbound_row(
    conversation: Conversation, integration, inbound: InboundMessage, reply_to=None
) -> Message:
    return Message(
        conversation=conversation,
        workspace_id=conversation.workspace_id,
        integration=integration,
        sender=Message.Sender.USER,
        type=inbound.type,
        content=inbound.content,
        media_url=inbound.media_url,
        metadata=inbound.metadata or {},
        external_id=inbound.external_id,
        reply_to=reply_to,
        status=Message.Status.DELIVERED,
        created_at=timezone.now(),
    )


def inbound_not_stored(*, integration, inbounds: list[InboundMessage]) -> list[InboundMessage]:
    """``inbounds`` without repeats and without messages already stored (one query)."""
    unique = list({inbound.external_id: inbound for inbound in inbounds}.values())
    stored = set(
        Message.objects.filter(
            integration=integration, external_id__in=[inbound.external_id for inbound in unique]
        ).values_list("external_id", flat=True)
    )
    return [inbound for inbound in unique if inbound.external_id not in stored]


def _known_contacts(integration, inbounds: list[InboundMessage]) -> dict[str, Contact]:
    """External contact id → contact, one query for returning customers; new ones one by one
    through the single-message path (which handles the identity race)."""
    ids = {inbound.external_contact_id for inbound in inbounds}
    identities = ContactIdentity.objects.select_related("contact").filter(
        integration=integration, external_id__in=ids
    )
    known = {identity.external_id: identity.contact for identity in identities}
    usernames = {i.external_contact_id: i.contact_username for i in inbounds if i.contact_username}
    for identity in identities:
        _remember_username(identity, usernames.get(identity.external_id, ""))
    for inbound in inbounds:
        if inbound.external_contact_id not in known:
            known[inbound.external_contact_id] = contact_for_identity(integration, inbound)
    return known


def _open_conversations(integration, contacts: list[Contact]) -> dict:
    """Contact id → open conversation on this channel (opening or reopening where needed)."""
    found = {
        conversation.contact_id: conversation
        for conversation in Conversation.objects.filter(
            integration=integration,
            contact_id__in=[contact.pk for contact in contacts],
            status__in=Conversation.OPEN_STATUSES,
        )
    }
    for contact in contacts:
        if contact.pk not in found:
            found[contact.pk] = open_conversation_for(integration, contact)[0]
    return found


def _reply_targets(integration, inbounds: list[InboundMessage]) -> dict[str, Message]:
    ids = {inbound.reply_to_external_id for inbound in inbounds if inbound.reply_to_external_id}
    if not ids:
        return {}
    return {
        message.external_id: message
        for message in Message.objects.filter(integration=integration, external_id__in=ids)
        if message.external_id is not None
    }


def _bulk_insert_inbound(
    integration, inbounds: list[InboundMessage]
) -> tuple[list[tuple[Message, InboundMessage]], list[Contact]]:
    """The messages stored (with what they were made from), and the customers who wrote them."""
    contacts = _known_contacts(integration, inbounds)
    conversations = _open_conversations(
        integration, list({c.pk: c for c in contacts.values()}.values())
    )
    targets = _reply_targets(integration, inbounds)
    rows = [
        _inbound_row(
            conversations[contacts[inbound.external_contact_id].pk],
            integration,
            inbound,
            targets.get(inbound.reply_to_external_id or ""),
        )
        for inbound in inbounds
    ]
    # A concurrent worker may store some of them first: the unique key skips those rows.
    Message.objects.bulk_create(rows, ignore_conflicts=True)
    stored = set(
        Message.objects.filter(pk__in=[row.pk for row in rows]).values_list("pk", flat=True)
    )
    pairs = [
        (row, inbound) for row, inbound in zip(rows, inbounds, strict=True) if row.pk in stored
    ]
    return pairs, list(contacts.values())


def _announce(created: list[Message], contacts: list[Contact]) -> dict:
    """Counters and ``message:new`` for what was stored; the conversations as they are now."""
    by_conversation: dict = {}
    for message in created:
        by_conversation.setdefault(message.conversation_id, []).append(message)
    fresh = count_customer_messages(by_conversation)
    _load_related(list(fresh.values()), contacts)
    realtime.conversation_events_record(
        kind="message:new",
        items=[message_new_payload(message, fresh[message.conversation_id]) for message in created],
    )
    hooks.customer_messages_stored.send(messages=created, conversations=fresh)
    return fresh


def _load_related(conversations: list[Conversation], contacts: list[Contact]) -> None:
    """What the payloads read besides the conversations' own columns: the contact (the batch's
    own, read in this transaction), the agent and the assistant (one query each for the few
    distinct ones, instead of joined into every row) and the tags."""
    by_pk = {contact.pk: contact for contact in contacts}
    # A conversation opened on the contact another was merged into (``_contact_kept``).
    others = {c.contact_id for c in conversations} - by_pk.keys()
    if others:
        by_pk.update(Contact.objects.in_bulk(others))
    for relation in ("assigned_agent", "assigned_assistant"):
        foreign_key = cast(ForeignKey, Conversation._meta.get_field(relation))
        keys = {getattr(c, foreign_key.attname) for c in conversations} - {None}
        model = cast(type[Model], foreign_key.related_model)
        related = model._base_manager.in_bulk(keys) if keys else {}
        for conversation in conversations:
            setattr(conversation, relation, related.get(getattr(conversation, foreign_key.attname)))
    for conversation in conversations:
        conversation.contact = by_pk[conversation.contact_id]
    tags_load_into(conversations)


def messages_receive_inbound(*, integration, inbounds: list[InboundMessage]) -> InboundBatch:
    """Store a delivery's customer messages exactly once, whatever the number of deliveries or
    workers: contacts, identities and open conversations found or created, counters moved with
    F(), one ``message:new`` per stored message. Returns what was stored."""
    fresh = inbound_not_stored(integration=integration, inbounds=inbounds)
    if not fresh:
        return InboundBatch(messages=[], conversations={})
    pairs, contacts = _bulk_insert_inbound(integration, fresh)
    stored = [message for message, _inbound in pairs]
    files = attachments_create_inbound((m, inbound.attachments) for m, inbound in pairs)
    return InboundBatch(
        messages=stored,
        conversations=_announce(stored, contacts) if stored else {},
        attachments=files,
    )


def message_receive_inbound(*, integration, inbound: InboundMessage) -> InboundResult:
    """One customer message: the batch of one (the same path). A repeat returns the message
    stored first, with ``created=False``."""
    batch = messages_receive_inbound(integration=integration, inbounds=[inbound])
    if batch.messages:
        return InboundResult(message=batch.messages[0], created=True)
    stored = Message.objects.get(integration=integration, external_id=inbound.external_id)
    return InboundResult(message=stored, created=False)


def message_receive_in_thread(
    *, integration, conversation: Conversation, inbound: InboundMessage
) -> Message | None:
    """Keep a customer message in ``conversation``'s thread as a reply that changes nothing
    about the conversation: it neither reopens it nor counts as unread or waiting (a survey
    answer). None when the message was stored before."""
    reply_to = None
    if inbound.reply_to_external_id:
        reply_to = Message.objects.filter(
            integration=integration, external_id=inbound.reply_to_external_id
        ).first()
    try:
        with transaction.atomic():
            message = _inbound_row(conversation, integration, inbound, reply_to)
            message.save(force_insert=True)
    except IntegrityError:
        return None  # stored by an earlier delivery or another worker
    attachments_create_inbound([(message, inbound.attachments)])
    Conversation.objects.filter(pk=conversation.pk).update(
        message_count=F("message_count") + 1,
        last_customer_message_at=customer_wrote_at(message.created_at),
        updated_at=timezone.now(),
    )
    message_new(message, conversation)
    return message
