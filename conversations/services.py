"""Every write to contacts, conversations, messages and tags.

Each service is one transaction that also records its realtime Event (conversations.realtime),
so the outbox row commits or rolls back with the change it describes. Counters move with F()
expressions; idempotency comes from unique constraints, never from check-then-insert.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, DateTimeField, F, TextField, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.models import User
from conversations import realtime
from conversations.models import Contact, ContactIdentity, Conversation, Event, Message, Tag
from conversations.selectors import agents_see_unassigned, conversation_scope
from conversations.serializers import conversation_data, message_data
from flame.exceptions import ConflictError, InvalidInput, PermissionDeniedError

logger = logging.getLogger(__name__)

PREVIEW_LENGTH = 200
OPEN_CONFLICT = "This customer already has an open conversation on this channel."
NOT_YOURS_CONFLICT = "Another agent handles this customer's conversation on this channel."

_UNSET = object()  # "not given", where None means "unassign"


# --- payloads and events -------------------------------------------------------------------------


def _reloaded(conversation: Conversation) -> Conversation:
    return (
        Conversation.objects.select_related("contact", "assigned_agent", "assigned_assistant")
        .prefetch_related("tags")
        .get(pk=conversation.pk)
    )


def _conversation_updated(conversation: Conversation, **extra: Any) -> Conversation:
    """Reload (F() values, tags) and record ``conversation:updated`` for its audience."""
    fresh = _reloaded(conversation)
    realtime.event_record(
        workspace_id=fresh.workspace_id,
        kind="conversation:updated",
        payload={"conversation": conversation_data(fresh), **extra},
        conversation=fresh,
    )
    return fresh


def _message_new_payload(message: Message, conversation: Conversation) -> tuple:
    payload = {
        "conversation_id": str(conversation.pk),
        "message": message_data(message),
        "conversation": conversation_data(conversation),
    }
    return conversation, payload


def _message_new(message: Message, conversation: Conversation) -> None:
    fresh, payload = _message_new_payload(message, _reloaded(conversation))
    realtime.event_record(
        workspace_id=fresh.workspace_id, kind="message:new", payload=payload, conversation=fresh
    )


def _preview(message: Message) -> str:
    if message.content:
        return message.content[:PREVIEW_LENGTH]
    return f"[{message.type}]"


# --- conversations -------------------------------------------------------------------------------


def _is_operator(user: User) -> bool:
    """A platform operator (an active superuser, working in Django admin) acts in every
    workspace with the rights of its admins; most belong to no workspace at all."""
    return user.is_active and user.is_superuser


def _ensure_can_act(*, by: User, conversation: Conversation) -> None:
    """Agents act on conversations they can see; selectors already hid the rest (404)."""
    if by.workspace_id != conversation.workspace_id and not _is_operator(by):
        raise PermissionDeniedError("Not your workspace.")


@dataclass(frozen=True)
class ConversationOpened:
    conversation: Conversation
    created: bool  # False: the customer's open (or last resolved) conversation was reused


@transaction.atomic
def conversation_create(
    *,
    by: User,
    contact_name: str,
    platform: str,
    contact_phone: str = "",
    contact_email: str = "",
    contact_external_id: str = "",
    integration=None,
    status: str | None = None,
    priority: str | None = None,
    tags: list[str] | None = None,
) -> ConversationOpened:
    """A conversation an agent starts (API/inbox). An agent who opens one is assigned to it.

    On a channel the customer is reached through their identity there: ``contact_external_id``
    (their id on the platform) or, where the channel addresses people by phone number, the
    phone. The contact and its identity are found or created, and the customer's open
    conversation on the channel is reused (or their last resolved one reopened), the same rule
    as for an incoming message. ``status``, ``priority`` and ``tags`` are the agent's choices.
    """
    contact = {"name": contact_name, "phone": contact_phone, "email": contact_email}
    if integration is None:
        opened = ConversationOpened(_conversation_by_hand(by, platform, contact), created=True)
    else:
        opened = _conversation_on_channel(by, integration, platform, contact_external_id, contact)
    _apply_agent_edits(opened.conversation, status=status, priority=priority, tags=tags)
    fresh = _conversation_updated(opened.conversation, created=opened.created)
    return replace(opened, conversation=fresh)


def _conversation_by_hand(by: User, platform: str, contact: dict[str, str]) -> Conversation:
    """No channel behind it (a call, a visit): nothing to deliver to, messages are only kept."""
    return Conversation.objects.create(
        workspace_id=by.workspace_id,
        contact=Contact.objects.create(workspace_id=by.workspace_id, **contact),
        platform=platform,
        assigned_agent=None if by.is_workspace_admin else by,
    )


def _conversation_on_channel(
    by: User, integration, platform: str, external_id: str, contact: dict[str, str]
) -> ConversationOpened:
    if platform != integration.platform:
        raise InvalidInput(
            "Invalid input.", details={"platform": ["Not the platform of integration_id."]}
        )
    address = _customer_address(integration, external_id, contact["phone"])
    customer = _identity_contact(
        integration,
        InboundMessage(
            external_contact_id=address,
            external_id="",
            contact_name=contact["name"],
            contact_phone=contact["phone"],
        ),
    )
    _fill_blank_contact_fields(customer, contact)
    assignee = None if by.is_workspace_admin else by
    conversation, created = _open_conversation(integration, customer, agent=assignee)
    if not created and not _visible_to(by, conversation):
        # Another agent's conversation: say so without showing it (the transaction rolls back).
        raise ConflictError(NOT_YOURS_CONFLICT, code="conversation_of_another_agent")
    return ConversationOpened(conversation, created=created)


def _customer_address(integration, external_id: str, phone: str) -> str:
    """The customer's id on the channel: given, or derived from the phone where the channel's
    provider addresses people by number (``address_for_phone`` in its client)."""
    from integrations.providers import provider_client

    if external_id.strip():
        return external_id.strip()
    by_phone = getattr(provider_client(integration.platform), "address_for_phone", None)
    address = by_phone(phone) if by_phone and phone else ""
    if not address:
        needed = "Needed to reach the customer on this channel"
        hint = " (or contact_phone)" if by_phone else ""
        raise InvalidInput("Invalid input.", details={"contact_external_id": [f"{needed}{hint}."]})
    return address


def _fill_blank_contact_fields(contact: Contact, data: dict[str, str]) -> None:
    """What the agent typed completes a known contact; it never overwrites what we know."""
    missing = {
        field: value for field, value in data.items() if value and not getattr(contact, field)
    }
    if missing:
        contact_update(contact=contact, data=missing)


def _visible_to(user: User, conversation: Conversation) -> bool:
    return Conversation.objects.filter(conversation_scope(user), pk=conversation.pk).exists()


def _status_fields(conversation: Conversation, status: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"status": status}
    if status == Conversation.Status.RESOLVED:
        fields["resolved_at"] = timezone.now()
    elif status in Conversation.OPEN_STATUSES:
        fields["resolved_at"] = None
    if status not in Conversation.OPEN_STATUSES:
        fields["waiting_since"] = None  # closed: nobody owes the customer an answer any more
    return fields


def _tags_named(workspace_id, names: list[str]) -> list[Tag]:
    tags = []
    for name in dict.fromkeys(n.strip() for n in names if n.strip()):
        existing = Tag.objects.filter(workspace_id=workspace_id, name__iexact=name).first()
        if existing is None:
            try:
                with transaction.atomic():
                    existing = Tag.objects.create(workspace_id=workspace_id, name=name)
            except IntegrityError:
                existing = Tag.objects.get(workspace_id=workspace_id, name__iexact=name)
        tags.append(existing)
    return tags


def _apply_changes(conversation: Conversation, changes: dict[str, Any]) -> None:
    try:
        with transaction.atomic():
            Conversation.objects.filter(pk=conversation.pk).update(
                **changes, updated_at=timezone.now()
            )
    except IntegrityError as exc:
        # Reopening while the customer already started a new open conversation on the channel.
        raise ConflictError(OPEN_CONFLICT, code="open_conversation_exists") from exc


def _priority_from_ai() -> Case:
    """The AI's priority, medium before any analysis."""
    return Case(
        When(ai_priority="", then=Value(Conversation.Priority.MEDIUM)),
        default=F("ai_priority"),
        output_field=TextField(),
    )


def _apply_agent_edits(
    conversation: Conversation,
    *,
    status: str | None = None,
    priority: str | None = None,
    tags: list[str] | None = None,
    reset_priority: bool = False,
    reset_tags: bool = False,
) -> dict[str, Any]:
    """Status, priority and tags as an agent sets them. A priority or tags set by an agent stay
    theirs (analysis no longer changes them) until a reset gives them back to the AI."""
    changes: dict[str, Any] = {}
    if status is not None and status != conversation.status:
        changes.update(_status_fields(conversation, status))
    if priority is not None:
        changes.update(priority=priority, priority_set_by_agent=True)
    elif reset_priority:
        changes.update(priority=_priority_from_ai(), priority_set_by_agent=False)
    if tags is not None or reset_tags:
        names = tags if tags is not None else conversation.ai_tags
        conversation.tags.set(_tags_named(conversation.workspace_id, names))
        changes["tags_set_by_agent"] = tags is not None
    if changes:
        _apply_changes(conversation, changes)
    return changes


@transaction.atomic
def conversation_update(
    *,
    by: User,
    conversation: Conversation,
    status: str | None = None,
    priority: str | None = None,
    tags: list[str] | None = None,
    contact: dict[str, str] | None = None,
    reset_priority: bool = False,
    reset_tags: bool = False,
    agent: Any = _UNSET,
    assistant: Any = _UNSET,
) -> Conversation:
    """An agent's edits; None leaves a field alone. ``agent`` / ``assistant`` (None unassigns)
    follow ``conversation_assign``'s rules."""
    _ensure_can_act(by=by, conversation=conversation)
    previous_agent_id = conversation.assigned_agent_id
    # Assignment first: a survey sent on resolve names the agent who resolved it.
    assignment = _assignment_changes(by, conversation, agent=agent, assistant=assistant)
    if assignment:
        _apply_changes(conversation, assignment)
    changes = _apply_agent_edits(
        conversation,
        status=status,
        priority=priority,
        tags=tags,
        reset_priority=reset_priority,
        reset_tags=reset_tags,
    )
    if contact:
        contact_update(contact=conversation.contact, data=contact)
    fresh = _conversation_updated(conversation)
    _tell_previous_agent(fresh, previous_agent_id)
    if changes.get("status") == Conversation.Status.RESOLVED:
        _survey_on_resolve(fresh)
    return fresh


def _survey_on_resolve(conversation: Conversation) -> None:
    from analytics.services import survey_send_on_resolve

    survey_send_on_resolve(conversation=conversation)


def conversation_hand_off(*, conversation: Conversation, assistant, reason: str) -> Conversation:
    """An assistant has no answer to give: the conversation waits for an agent (pending), and
    the agents are told why."""
    _apply_changes(conversation, {"status": Conversation.Status.PENDING})
    return _conversation_updated(
        conversation, handoff={"reason": reason, "assistant_id": str(assistant.pk)}
    )


def conversation_set_status(*, by: User, conversation: Conversation, status: str) -> Conversation:
    return conversation_update(by=by, conversation=conversation, status=status)


def _check_agent_assignment(*, by: User, conversation: Conversation, agent: User | None) -> None:
    if by.is_workspace_admin or _is_operator(by):
        return
    # Agents may only claim an unassigned conversation from the shared queue for themselves.
    claiming = (
        agent is not None
        and agent.pk == by.pk
        and conversation.assigned_agent_id is None
        and agents_see_unassigned(by.workspace)
    )
    if not claiming:
        raise PermissionDeniedError("Only workspace admins can assign conversations to agents.")


def _assignment_changes(
    by: User, conversation: Conversation, *, agent: Any, assistant: Any
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if agent is not _UNSET:
        _check_agent_assignment(by=by, conversation=conversation, agent=agent)
        # Compared with the conversation's workspace: an operator has none of their own.
        if agent is not None and (
            agent.workspace_id != conversation.workspace_id or not agent.is_active
        ):
            raise InvalidInput("Invalid input.", details={"agent_id": ["Unknown agent."]})
        changes["assigned_agent"] = agent
    if assistant is not _UNSET:
        if assistant is not None and assistant.workspace_id != conversation.workspace_id:
            raise InvalidInput("Invalid input.", details={"assistant_id": ["Unknown assistant."]})
        changes["assigned_assistant"] = assistant
    return changes


def _tell_previous_agent(fresh: Conversation, previous_agent_id) -> None:
    if previous_agent_id and previous_agent_id != fresh.assigned_agent_id:
        # The previous assignee no longer sees the conversation: tell them to drop it.
        realtime.event_record(
            workspace_id=fresh.workspace_id,
            kind="conversation:removed",
            payload={"conversation_id": str(fresh.pk)},
            user_id=previous_agent_id,
        )


@transaction.atomic
def conversation_assign(
    *, by: User, conversation: Conversation, agent: Any = _UNSET, assistant: Any = _UNSET
) -> Conversation:
    """Assign (or with None, unassign) an agent and/or an assistant."""
    _ensure_can_act(by=by, conversation=conversation)
    previous_agent_id = conversation.assigned_agent_id
    changes = _assignment_changes(by, conversation, agent=agent, assistant=assistant)
    if changes:
        _apply_changes(conversation, changes)
    fresh = _conversation_updated(conversation)
    _tell_previous_agent(fresh, previous_agent_id)
    return fresh


@transaction.atomic
def conversation_mark_read(*, by: User, conversation: Conversation) -> Conversation:
    _ensure_can_act(by=by, conversation=conversation)
    changed = Conversation.objects.filter(pk=conversation.pk, unread_count__gt=0).update(
        unread_count=0
    )
    return _conversation_updated(conversation) if changed else _reloaded(conversation)


@transaction.atomic
def conversation_record_analysis(
    *, conversation_id, summary: str, priority: str, tags: list[str], analyzed_at
) -> Conversation | None:
    """Store the AI's analysis (assistants/analysis.py). Its priority and tags are also the
    conversation's own until an agent sets them; after that only the ai_* fields change."""
    locked = Conversation.objects.select_for_update(of=("self",)).filter(pk=conversation_id).first()
    if locked is None:
        return None
    changes: dict[str, Any] = {
        "ai_summary": summary,
        "ai_priority": priority,
        "ai_tags": tags,
        "ai_analyzed_at": analyzed_at,
    }
    if not locked.priority_set_by_agent:
        changes["priority"] = priority
    Conversation.objects.filter(pk=locked.pk).update(**changes)
    retagged = not locked.tags_set_by_agent and _retag(locked, tags)
    if retagged or changes.get("priority", locked.priority) != locked.priority:
        fresh = _conversation_updated(locked)  # lists re-filter and re-badge it
    else:
        fresh = _reloaded(locked)
    _analysis_event(fresh)
    return fresh


def _retag(conversation: Conversation, names: list[str]) -> bool:
    tags = _tags_named(conversation.workspace_id, names)
    if {tag.pk for tag in tags} == set(conversation.tags.values_list("pk", flat=True)):
        return False
    conversation.tags.set(tags)
    return True


def _analysis_event(conversation: Conversation) -> None:
    realtime.event_record(
        workspace_id=conversation.workspace_id,
        kind="conversation:ai:update",
        payload={
            "conversation_id": str(conversation.pk),
            "ai_summary": conversation.ai_summary,
            "ai_priority": conversation.ai_priority,
            "ai_tags": conversation.ai_tags,
            "ai_analyzed_at": conversation.ai_analyzed_at.isoformat(),
        },
        conversation=conversation,
    )


@transaction.atomic
def conversation_delete(*, by: User, conversation: Conversation) -> None:
    if not (by.is_workspace_admin or _is_operator(by)):
        raise PermissionDeniedError("Only workspace admins can delete conversations.")
    _ensure_can_act(by=by, conversation=conversation)
    realtime.event_record(
        workspace_id=conversation.workspace_id,
        kind="conversation:deleted",
        payload={"conversation_id": str(conversation.pk)},
        conversation=conversation,
    )
    conversation.delete()


# --- messages ------------------------------------------------------------------------------------


def _customer_wrote_at(at) -> Greatest:
    return Greatest(Coalesce(F("last_customer_message_at"), Value(at)), Value(at))


def _count_new_message(conversation: Conversation, message: Message) -> None:
    _count_new_messages(conversation.pk, [message])


def _count_new_messages(conversation_id, messages: list[Message]) -> None:
    """Move counters and the preview with F() so concurrent writers never lose an update.

    ``messages`` share one sender kind (a customer burst, or one outbound message).
    """
    message = max(messages, key=lambda item: item.created_at)
    at = message.created_at
    changes: dict[str, Any] = {
        "message_count": F("message_count") + len(messages),
        "last_message": Case(
            When(last_message_at__lte=at, then=Value(_preview(message))),
            default=F("last_message"),
            output_field=TextField(),
        ),
        "last_message_sender": Case(
            When(last_message_at__lte=at, then=Value(message.sender)),
            default=F("last_message_sender"),
            output_field=TextField(),
        ),
        "last_message_at": Greatest(F("last_message_at"), Value(at)),
        "updated_at": timezone.now(),
    }
    if message.sender == Message.Sender.USER:
        changes["unread_count"] = F("unread_count") + len(messages)
        changes["last_customer_message_at"] = _customer_wrote_at(at)
        first = min(item.created_at for item in messages)
        changes["waiting_since"] = Coalesce(F("waiting_since"), Value(first))
    else:
        changes["first_response_at"] = Coalesce(F("first_response_at"), Value(at))
        # Only a person answers: an assistant's "someone will get back to you" leaves the
        # conversation unread and waiting for a human.
        if message.sender == Message.Sender.AGENT:
            changes.update(_agent_answered(at))
    Conversation.objects.filter(pk=conversation_id).update(**changes)


def _agent_answered(at) -> dict[str, Any]:
    """An agent's message at ``at`` answers the customer, unless they wrote again after it
    (the late echo of a message sent from the phone app)."""
    return {
        "unread_count": 0,
        "last_agent_reply_at": Value(at),
        "waiting_since": Case(
            When(last_customer_message_at__gt=at, then=F("waiting_since")),
            default=Value(None),
            output_field=DateTimeField(),
        ),
    }


@dataclass(frozen=True)
class OutboundDraft:
    content: str = ""
    type: str = Message.Type.TEXT
    media_url: str = ""
    metadata: dict | None = None
    reply_to: Message | None = None


def message_store_outbound(
    *,
    conversation: Conversation,
    sender: str,
    draft: OutboundDraft,
    author: User | None = None,
    assistant=None,
) -> Message:
    """Store an agent's or assistant's message and hand it to delivery on commit.

    A conversation with a channel behind it gets the message ``queued`` until the provider
    accepts it. One without (opened by hand) has nowhere to deliver to: the message is ``sent``
    as stored, with no task and no second event. Callers hold the transaction
    (``message_send_agent``, the assistants' auto-reply).
    """
    from integrations.tasks import deliver_message_task

    if not draft.content.strip() and not draft.media_url:
        raise InvalidInput(
            "Invalid input.", details={"content": ["A message needs text or media."]}
        )
    message = Message.objects.create(
        conversation=conversation,
        workspace_id=conversation.workspace_id,
        integration_id=conversation.integration_id,
        sender=sender,
        author=author,
        assistant=assistant,
        type=draft.type,
        content=draft.content,
        media_url=draft.media_url,
        metadata=draft.metadata or {},
        reply_to=draft.reply_to,
        status=Message.Status.QUEUED if conversation.integration_id else Message.Status.SENT,
    )
    _count_new_message(conversation, message)
    _message_new(message, conversation)
    if message.status == Message.Status.QUEUED:
        transaction.on_commit(lambda: deliver_message_task.delay(str(message.pk)), robust=True)
    return message


@transaction.atomic
def message_send_agent(*, by: User, conversation: Conversation, draft: OutboundDraft) -> Message:
    from assistants.services import schedule_analysis

    _ensure_can_act(by=by, conversation=conversation)
    if draft.reply_to is not None and draft.reply_to.conversation_id != conversation.pk:
        raise InvalidInput("Invalid input.", details={"reply_to": ["Not in this conversation."]})
    message = message_store_outbound(
        conversation=conversation, sender=Message.Sender.AGENT, draft=draft, author=by
    )
    # What the agent answered changes the summary, priority and tags: analyse again.
    transaction.on_commit(lambda: schedule_analysis(conversation_id=conversation.pk), robust=True)
    return message


def _status_event(message: Message) -> None:
    realtime.event_record(
        workspace_id=message.workspace_id,
        kind="message:status",
        payload={
            "conversation_id": str(message.conversation_id),
            "message_id": str(message.pk),
            "status": message.status,
            "error_code": message.error_code,
            "error_message": message.error_message,
        },
        conversation=message.conversation,
    )


@transaction.atomic
def message_mark_sent(*, message: Message, external_id: str, metadata: dict | None = None) -> bool:
    """The platform accepted the message and gave it ``external_id``.

    Instagram may echo our send back before this runs; that echo was stored as a separate
    message with the same id, so it is removed here and the id moves to the real message.
    """
    echo_copies = Message.objects.filter(
        integration_id=message.integration_id, external_id=external_id, metadata__origin="echo"
    ).exclude(pk=message.pk)
    removed = echo_copies.delete()[0]
    if removed:
        Conversation.objects.filter(pk=message.conversation_id).update(
            message_count=F("message_count") - removed
        )
    if metadata:
        Message.objects.filter(pk=message.pk).update(metadata={**message.metadata, **metadata})
    return message_update_status(
        message=message, status=Message.Status.SENT, external_id=external_id
    )


def _may_move(current: str, new: str) -> bool:
    if current == Message.Status.FAILED:
        return False
    if new == Message.Status.FAILED:
        return current in (Message.Status.QUEUED, Message.Status.SENT)
    return Message.STATUS_RANK[new] > Message.STATUS_RANK[current]


def _statuses_before(new: str) -> list[str]:
    return [status for status in Message.Status if _may_move(status, new)]


@transaction.atomic
def message_update_status(
    *,
    message: Message,
    status: str,
    error_code: str = "",
    error_message: str = "",
    external_id: str | None = None,
) -> bool:
    """Move a message's delivery status forward; a late or repeated update changes nothing.

    The conditional UPDATE is the guard: a ``delivered`` that arrives after ``read`` matches no
    row. Returns whether the status moved.
    """
    changes: dict[str, Any] = {"status": status, "status_changed_at": timezone.now()}
    if status == Message.Status.FAILED:
        changes.update(error_code=error_code[:64], error_message=error_message)
    if external_id:
        changes["external_id"] = external_id
    moved = Message.objects.filter(pk=message.pk, status__in=_statuses_before(status)).update(
        **changes
    )
    if not moved:
        return False
    # What the UPDATE wrote, without reading the row back (and keeping the loaded conversation
    # the event's audience comes from).
    for field, value in changes.items():
        setattr(message, field, value)
    _status_event(message)
    return True


# --- inbound -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboundMessage:
    """A customer message normalized by a channel parser (integrations/providers/*/parse.py)."""

    external_contact_id: str
    external_id: str
    content: str = ""
    type: str = Message.Type.TEXT
    media_url: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    metadata: dict | None = None
    reply_to_external_id: str | None = None


@dataclass(frozen=True)
class InboundResult:
    message: Message
    created: bool


def _fitted(field: str, value: str) -> str:
    """A platform's profile value cut to our column: a long display name never loses a message."""
    return value[: Contact._meta.get_field(field).max_length]


def _identity_contact(integration, inbound: InboundMessage) -> Contact:
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
        return contact
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                workspace_id=integration.workspace_id,
                name=name,
                phone=_fitted("phone", inbound.contact_phone),
            )
            ContactIdentity.objects.create(
                contact=contact, integration=integration, external_id=inbound.external_contact_id
            )
            return contact
    except IntegrityError:
        # Another worker created this identity a moment ago: use theirs.
        return ContactIdentity.objects.get(
            integration=integration, external_id=inbound.external_contact_id
        ).contact


def _open_conversation(
    integration, contact: Contact, *, agent: User | None = None
) -> tuple[Conversation, bool]:
    """The customer's open conversation on this channel: reuse, reopen the last, or create
    (assigned to ``agent``). The flag says whether a new conversation was created."""
    open_now = Conversation.objects.filter(
        integration=integration, contact=contact, status__in=Conversation.OPEN_STATUSES
    ).first()
    if open_now is not None:
        return open_now, False
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
            return created, True
    except IntegrityError:
        # Lost the race to open it: the partial unique index guarantees exactly one exists.
        return Conversation.objects.get(
            integration=integration, contact=contact, status__in=Conversation.OPEN_STATUSES
        ), False


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


def _insert_inbound(conversation: Conversation, integration, inbound: InboundMessage) -> Message:
    reply_to = None
    if inbound.reply_to_external_id:
        reply_to = Message.objects.filter(
            integration=integration, external_id=inbound.reply_to_external_id
        ).first()
    message = _inbound_row(conversation, integration, inbound, reply_to)
    message.save(force_insert=True)
    return message


def _store_survey_answer(integration, contact: Contact, inbound: InboundMessage) -> Message | None:
    """A reply to a satisfaction survey becomes a rating. It is kept in the surveyed
    conversation's thread, but it neither reopens the conversation, nor counts as an unread or
    unreplied message, nor wakes an assistant."""
    from analytics import csat
    from analytics.selectors import survey_for_answer
    from analytics.services import rating_from_customer

    answer = csat.answer_in(inbound.content, inbound.metadata)
    if answer is None:
        return None
    survey = survey_for_answer(integration=integration, contact=contact, answer=answer)
    if survey is None:
        return None
    if inbound.content.startswith(csat.PAYLOAD_PREFIX):  # Telegram shows the raw callback data
        inbound = replace(inbound, content=csat.label_for(answer.score))
    conversation = survey.conversation
    message = _insert_inbound(conversation, integration, inbound)
    Conversation.objects.filter(pk=conversation.pk).update(
        message_count=F("message_count") + 1,
        last_customer_message_at=_customer_wrote_at(message.created_at),
        updated_at=timezone.now(),
    )
    _message_new(message, conversation)
    rating_from_customer(survey=survey, score=answer.score)
    return message


def _store_inbound(integration, inbound: InboundMessage) -> Message:
    from assistants.services import customer_message_received

    contact = _identity_contact(integration, inbound)
    answered = _store_survey_answer(integration, contact, inbound)
    if answered is not None:
        return answered
    conversation, _opened = _open_conversation(integration, contact)
    message = _insert_inbound(conversation, integration, inbound)
    _count_new_message(conversation, message)
    _message_new(message, conversation)
    customer_message_received(message=message, conversation=conversation)
    return message


def message_receive_inbound(*, integration, inbound: InboundMessage) -> InboundResult:
    """Store a customer message exactly once, whatever the number of deliveries or workers.

    The UNIQUE (integration, external_id) constraint decides: a concurrent or repeated delivery
    fails its insert, its savepoint (contact, counters, events and their on-commit publishing)
    rolls back, and the stored message is returned with ``created=False``. There is no
    look-before-insert: new messages, the common case, cost no extra query.
    """
    existing = Message.objects.filter(integration=integration, external_id=inbound.external_id)
    try:
        with transaction.atomic():
            return InboundResult(message=_store_inbound(integration, inbound), created=True)
    except IntegrityError:
        stored = existing.first()
        if stored is None:
            raise  # not the duplicate we expected: let the task retry and surface it
        return InboundResult(message=stored, created=False)


def _known_contacts(integration, inbounds: list[InboundMessage]) -> dict[str, Contact]:
    """External contact id → contact, one query for returning customers; new ones one by one
    through the single-message path (which handles the identity race)."""
    ids = {inbound.external_contact_id for inbound in inbounds}
    known = {
        identity.external_id: identity.contact
        for identity in ContactIdentity.objects.select_related("contact").filter(
            integration=integration, external_id__in=ids
        )
    }
    for inbound in inbounds:
        if inbound.external_contact_id not in known:
            known[inbound.external_contact_id] = _identity_contact(integration, inbound)
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
            found[contact.pk] = _open_conversation(integration, contact)[0]
    return found


def _reply_targets(integration, inbounds: list[InboundMessage]) -> dict[str, Message]:
    ids = {inbound.reply_to_external_id for inbound in inbounds if inbound.reply_to_external_id}
    if not ids:
        return {}
    return {
        message.external_id: message
        for message in Message.objects.filter(integration=integration, external_id__in=ids)
    }


def _bulk_insert_inbound(integration, inbounds: list[InboundMessage]) -> list[Message]:
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
    return [row for row in rows if row.pk in stored]


def _announce_bulk(created: list[Message]) -> None:
    from assistants.services import customer_messages_received

    by_conversation: dict = {}
    for message in created:
        by_conversation.setdefault(message.conversation_id, []).append(message)
    # Sorted: two workers updating overlapping conversations take row locks in the same order.
    for conversation_id in sorted(by_conversation, key=str):
        _count_new_messages(conversation_id, by_conversation[conversation_id])
    fresh = {
        conversation.pk: conversation
        for conversation in Conversation.objects.select_related(
            "contact", "assigned_agent", "assigned_assistant"
        )
        .prefetch_related("tags")
        .filter(pk__in=list(by_conversation))
    }
    realtime.conversation_events_record(
        kind="message:new",
        items=[
            _message_new_payload(message, fresh[message.conversation_id]) for message in created
        ],
    )
    customer_messages_received(messages=created, conversations=fresh)


def messages_receive_inbound_bulk(*, integration, inbounds: list[InboundMessage]) -> list[Message]:
    """Many customer messages of one channel at once, with the guarantees of
    ``message_receive_inbound`` (exactly once, counters, events, assistants) but set-based:
    a handful of queries per batch instead of a dozen per message. Returns what was stored."""
    unique = list({inbound.external_id: inbound for inbound in inbounds}.values())
    existing = set(
        Message.objects.filter(
            integration=integration, external_id__in=[inbound.external_id for inbound in unique]
        ).values_list("external_id", flat=True)
    )
    fresh = [inbound for inbound in unique if inbound.external_id not in existing]
    # A possible survey answer ("5", a rating button) goes through the single-message path,
    # which tells a rating from a new message; they are few and short.
    answers = [inbound for inbound in fresh if _may_answer_survey(inbound)]
    created = [
        result.message
        for result in (
            message_receive_inbound(integration=integration, inbound=inbound) for inbound in answers
        )
        if result.created
    ]
    answered = {inbound.external_id for inbound in answers}
    rest = [inbound for inbound in fresh if inbound.external_id not in answered]
    if rest:
        stored = _bulk_insert_inbound(integration, rest)
        if stored:
            _announce_bulk(stored)
        created.extend(stored)
    return created


def _may_answer_survey(inbound: InboundMessage) -> bool:
    from analytics.csat import answer_in

    return answer_in(inbound.content, inbound.metadata) is not None


# --- tags and contacts ---------------------------------------------------------------------------


def _tag_conflict() -> ConflictError:
    return ConflictError(
        "A tag with this name already exists.",
        code="tag_exists",
        details={"name": ["Already exists."]},
    )


@transaction.atomic
def tag_create(*, by: User, name: str, color: str | None = None) -> Tag:
    try:
        with transaction.atomic():
            return Tag.objects.create(
                workspace_id=by.workspace_id,
                name=name.strip(),
                **({"color": color} if color else {}),
            )
    except IntegrityError as exc:
        raise _tag_conflict() from exc


@transaction.atomic
def tag_update(*, tag: Tag, name: str | None = None, color: str | None = None) -> Tag:
    if name is not None:
        tag.name = name.strip()
    if color is not None:
        tag.color = color
    try:
        with transaction.atomic():
            tag.save(update_fields=["name", "color"])
    except IntegrityError as exc:
        raise _tag_conflict() from exc
    return tag


@transaction.atomic
def tag_delete(*, tag: Tag) -> None:
    tag.delete()


@transaction.atomic
def contact_update(*, contact: Contact, data: dict[str, Any]) -> Contact:
    allowed = {"name", "phone", "email", "avatar_url", "metadata"}
    for field, value in data.items():
        if field in allowed:
            setattr(contact, field, value)
    contact.save(update_fields=[*sorted(set(data) & allowed), "updated_at"])
    return contact


def events_prune(*, older_than_days: int | None = None) -> int:
    """Delete outbox rows past retention; clients older than that reload their state."""
    days = older_than_days if older_than_days is not None else settings.EVENT_RETENTION_DAYS
    deleted, _ = Event.objects.filter(created_at__lt=timezone.now() - timedelta(days=days)).delete()
    return deleted


# --- changes reported by channels (reactions, edits, deletions, echoes, receipts) --------------


def _message_updated(message: Message) -> None:
    realtime.event_record(
        workspace_id=message.workspace_id,
        kind="message:updated",
        payload={
            "conversation_id": str(message.conversation_id),
            "message": message_data(message),
        },
        conversation=message.conversation,
    )


def _locked_channel_message(integration, external_id: str) -> Message | None:
    return (
        Message.objects.select_for_update(of=("self",))
        .select_related("conversation")
        .filter(integration=integration, external_id=external_id)
        .first()
    )


@transaction.atomic
def message_react(*, integration, target_external_id: str, reactor: str, emoji: str) -> bool:
    """Store a reaction on the message it reacts to (not as a message); empty emoji removes it."""
    message = _locked_channel_message(integration, target_external_id)
    if message is None:
        return False
    reactions = dict(message.metadata.get("reactions", {}))
    if reactions.get(reactor, "") == emoji or (not emoji and reactor not in reactions):
        return True  # a repeated delivery: nothing changes
    if emoji:
        reactions[reactor] = emoji
    else:
        reactions.pop(reactor, None)
    message.metadata = {**message.metadata, "reactions": reactions}
    message.save(update_fields=["metadata"])
    _message_updated(message)
    return True


@transaction.atomic
def message_edit_from_channel(*, integration, target_external_id: str, content: str) -> bool:
    message = _locked_channel_message(integration, target_external_id)
    if message is None:
        return False
    if message.content == content:
        return True
    history = [*message.metadata.get("edits", []), message.content][-10:]
    message.metadata = {**message.metadata, "edits": history}
    message.content = content
    message.is_edited = True
    message.save(update_fields=["content", "is_edited", "metadata"])
    _message_updated(message)
    return True


@transaction.atomic
def message_delete_from_channel(*, integration, target_external_id: str) -> bool:
    message = _locked_channel_message(integration, target_external_id)
    if message is None:
        return False
    if not message.is_deleted:
        message.is_deleted = True
        message.save(update_fields=["is_deleted"])
        _message_updated(message)
    return True


@transaction.atomic
def message_status_from_channel(
    *, integration, external_id: str, status: str, error_code: str = "", error_message: str = ""
) -> bool:
    """Apply a receipt; False when no message of ours carries ``external_id`` (yet)."""
    message = (
        Message.objects.select_related("conversation")
        .filter(integration=integration, external_id=external_id)
        .first()
    )
    if message is None:
        return False
    message_update_status(
        message=message, status=status, error_code=error_code, error_message=error_message
    )
    return True


@transaction.atomic
def messages_apply_watermark(
    *, integration, external_contact_id: str, status: str, watermark
) -> int:
    """Messenger receipts: everything we sent this contact up to ``watermark`` moves forward."""
    identity = ContactIdentity.objects.filter(
        integration=integration, external_id=external_contact_id
    ).first()
    if identity is None:
        return 0
    candidates = (
        Message.objects.select_related("conversation")
        .filter(
            integration=integration,
            conversation__contact_id=identity.contact_id,
            created_at__lte=watermark,
            status__in=_statuses_before(status),
        )
        .exclude(sender=Message.Sender.USER)[:200]
    )
    return sum(message_update_status(message=message, status=status) for message in candidates)


@dataclass(frozen=True)
class EchoedMessage:
    external_id: str
    external_contact_id: str
    content: str = ""
    type: str = Message.Type.TEXT
    media_url: str = ""
    our_message_id: str | None = None
    metadata: dict | None = None


def _echo_is_ours(integration, echo: EchoedMessage) -> bool:
    if Message.objects.filter(integration=integration, external_id=echo.external_id).exists():
        return True
    if not echo.our_message_id:
        return False
    try:
        uuid.UUID(str(echo.our_message_id))
    except ValueError:
        return False  # metadata someone else put on a send: not one of our message ids
    # The platform echoed our send before delivery stored its id: adopt the id now.
    return bool(
        Message.objects.filter(
            pk=echo.our_message_id, integration=integration, external_id__isnull=True
        ).update(external_id=echo.external_id)
    )


@transaction.atomic
def message_record_echo(*, integration, echo: EchoedMessage) -> bool:
    """A message the business sent outside FLAME (Page inbox, phone app): store it once.

    Our own sends come back as echoes too; they are recognised and change nothing. Returns
    whether a new message was stored.
    """
    if _echo_is_ours(integration, echo):
        return False
    # The business may start a conversation from the phone app: the customer can be new to us.
    contact = _identity_contact(
        integration, InboundMessage(external_contact_id=echo.external_contact_id, external_id="")
    )
    conversation, _opened = _open_conversation(integration, contact)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation,
                workspace_id=conversation.workspace_id,
                integration=integration,
                sender=Message.Sender.AGENT,
                type=echo.type,
                content=echo.content,
                media_url=echo.media_url,
                metadata={**(echo.metadata or {}), "origin": "echo"},
                external_id=echo.external_id,
                status=Message.Status.SENT,
            )
    except IntegrityError:
        return False
    _count_new_message(conversation, message)
    _message_new(message, conversation)
    return True


@transaction.atomic
def message_resend(*, message: Message) -> Message:
    """Queue a failed outbound message for delivery again (agents via the API, operators in
    admin); the retry really sends, through the same delivery task."""
    from integrations.tasks import deliver_message_task

    reset = Message.objects.filter(
        pk=message.pk,
        status=Message.Status.FAILED,
        sender__in=(Message.Sender.AGENT, Message.Sender.ASSISTANT),
    ).update(
        status=Message.Status.QUEUED,
        error_code="",
        error_message="",
        status_changed_at=timezone.now(),
    )
    if not reset:
        raise ConflictError("Only failed outbound messages can be retried.", code="not_retryable")
    message.refresh_from_db()
    _status_event(message)
    transaction.on_commit(lambda: deliver_message_task.delay(str(message.pk)), robust=True)
    return message


def message_retry(*, by: User, message: Message) -> Message:
    _ensure_can_act(by=by, conversation=message.conversation)
    return message_resend(message=message)


@transaction.atomic
def contact_identity_flag(*, integration, external_id: str, blocked: bool) -> bool:
    """Remember that a customer blocked the bot (or came back), shown beside the contact."""
    identity = (
        ContactIdentity.objects.select_for_update()
        .filter(integration=integration, external_id=external_id)
        .first()
    )
    if identity is None:
        return False
    identity.metadata = {
        **identity.metadata,
        "blocked": blocked,
        "blocked_at": timezone.now().isoformat(),
    }
    identity.save(update_fields=["metadata"])
    return True
