"""Conversations as agents (and operators) handle them: start, edit, assign, resolve, delete,
and the AI analysis written back."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, F, TextField, Value, When
from django.utils import timezone

from accounts import audit
from accounts.models import User
from conversations import activity, hooks, realtime
from conversations.activity import Snapshot
from conversations.models import Contact, Conversation, Event, Message
from conversations.selectors import agents_see_unassigned, conversation_scope
from conversations.services.access import ensure_can_act
from conversations.services.access import is_operator as _is_operator
from conversations.services.activity import activities_record, activity_record, stored_state
from conversations.services.contacts import contact_update
from conversations.services.events import (
    contact_created,
    conversation_created,
    conversation_updated,
    reloaded,
)
from conversations.services.inbound import contact_for_identity, open_conversation_for
from conversations.services.outbound import OutboundDraft, message_store_outbound
from conversations.services.tags import tags_named
from conversations.types import InboundMessage
from flame.exceptions import ConflictError, InvalidInput, PermissionDeniedError

OPEN_CONFLICT = "This customer already has an open conversation on this channel."
NOT_YOURS_CONFLICT = "Another agent handles this customer's conversation on this channel."

_UNSET: Any = object()  # "not given", where None means "unassign"


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
    first_message: OutboundDraft | None = None,
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
    if first_message is not None:
        # A business writing first (a WhatsApp template): delivered like any reply.
        message_store_outbound(
            conversation=reloaded(opened.conversation),
            sender=Message.Sender.AGENT,
            draft=first_message,
            author=by,
        )
    fresh = conversation_updated(opened.conversation, created=opened.created)
    return replace(opened, conversation=fresh)


def _conversation_by_hand(by: User, platform: str, contact: dict[str, str]) -> Conversation:
    """No channel behind it (a call, a visit): nothing to deliver to, messages are only kept."""
    customer = Contact.objects.create(workspace_id=by.member_workspace_id, **contact)
    contact_created(customer)
    conversation = Conversation.objects.create(
        workspace_id=by.member_workspace_id,
        contact=customer,
        platform=platform,
        assigned_agent=None if by.is_workspace_admin else by,
    )
    conversation_created(conversation)
    return conversation


def _conversation_on_channel(
    by: User, integration, platform: str, external_id: str, contact: dict[str, str]
) -> ConversationOpened:
    if platform != integration.platform:
        raise InvalidInput(
            "Invalid input.", details={"platform": ["Not the platform of integration_id."]}
        )
    address = _customer_address(integration, external_id, contact["phone"])
    customer = contact_for_identity(
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
    conversation, created = open_conversation_for(integration, customer, agent=assignee)
    if not created and not _visible_to(by, conversation):
        # Another agent's conversation: say so without showing it (the transaction rolls back).
        raise ConflictError(NOT_YOURS_CONFLICT, code="conversation_of_another_agent")
    return ConversationOpened(conversation, created=created)


def _customer_address(integration, external_id: str, phone: str) -> str:
    """The customer's id on the channel: given, or derived from the phone where the channel's
    provider addresses people by number."""
    if external_id.strip():
        return external_id.strip()
    address = hooks.customer_address.ask(integration=integration, phone=phone)
    if not address:
        needed = "Needed to reach the customer on this channel"
        hint = "" if address is None else " (or contact_phone)"
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
        fields.update(snoozed=False, snoozed_until=None)  # nothing left to wake up
    return fields


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
        conversation.tags.set(tags_named(conversation.workspace_id, names))
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
    ensure_can_act(by=by, conversation=conversation)
    before = stored_state(conversation)
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
    fresh = conversation_updated(conversation)
    _tell_previous_agent(fresh, previous_agent_id)
    activities_record(before=before, conversation=fresh, by=by)
    _audit_applied_suggestions(by, fresh, before, priority=priority, tags=tags)
    if changes.get("status") == Conversation.Status.RESOLVED:
        hooks.conversation_resolved.send(conversation=fresh)
    return fresh


def _audit_applied_suggestions(
    by: User,
    conversation: Conversation,
    before: Snapshot,
    *,
    priority: str | None,
    tags: list[str] | None,
) -> None:
    """An agent took the AI's priority or some of its tags (the inbox's one-click buttons send
    exactly those values)."""
    applied: dict[str, Any] = {}
    if priority and priority == conversation.ai_priority and priority != before.priority:
        applied["priority"] = priority
    suggested = {name.lower() for name in conversation.ai_tags or []}
    had = {name.lower() for name in before.tags}
    taken = sorted({name for name in tags or [] if name.lower() in suggested - had})
    if taken:
        applied["tags"] = taken
    if applied:
        audit.record(
            action=audit.AI_SUGGESTION_APPLIED,
            workspace_id=conversation.workspace_id,
            actor=by,
            target=("conversation", conversation.pk),
            data=applied,
        )


def conversation_hand_off(*, conversation: Conversation, assistant, reason: str) -> Conversation:
    """An assistant has no answer to give: the conversation waits for an agent (pending), and
    the agents are told why."""
    _apply_changes(conversation, {"status": Conversation.Status.PENDING})
    fresh = conversation_updated(
        conversation, handoff={"reason": reason, "assistant_id": str(assistant.pk)}
    )
    activity_record(
        conversation=fresh,
        kind=activity.HANDOFF,
        reason=reason,
        assistant={"id": str(assistant.pk), "name": assistant.name},
    )
    return fresh


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
    ensure_can_act(by=by, conversation=conversation)
    before = stored_state(conversation)
    previous_agent_id = conversation.assigned_agent_id
    changes = _assignment_changes(by, conversation, agent=agent, assistant=assistant)
    if changes:
        _apply_changes(conversation, changes)
    fresh = conversation_updated(conversation)
    _tell_previous_agent(fresh, previous_agent_id)
    activities_record(before=before, conversation=fresh, by=by)
    return fresh


@transaction.atomic
def conversation_assign_automatically(
    *, conversation: Conversation, agent: User
) -> Conversation | None:
    """Auto-assignment's choice (workbench): only while nobody is assigned, so a person who
    claimed it meanwhile keeps it (None then, and nothing changes)."""
    before = stored_state(conversation)
    assigned = Conversation.objects.filter(pk=conversation.pk, assigned_agent__isnull=True).update(
        assigned_agent=agent, updated_at=timezone.now()
    )
    if not assigned:
        return None
    fresh = conversation_updated(conversation)
    activities_record(before=before, conversation=fresh, by=None, automatic=True)
    return fresh


@transaction.atomic
def conversation_mark_read(*, by: User, conversation: Conversation) -> Conversation:
    ensure_can_act(by=by, conversation=conversation)
    changed = Conversation.objects.filter(pk=conversation.pk, unread_count__gt=0).update(
        unread_count=0
    )
    return conversation_updated(conversation) if changed else reloaded(conversation)


@transaction.atomic
def conversation_delete(*, by: User, conversation: Conversation) -> None:
    if not (by.is_workspace_admin or _is_operator(by)):
        raise PermissionDeniedError("Only workspace admins can delete conversations.")
    ensure_can_act(by=by, conversation=conversation)
    # Its history lines are kept past the event retention for the thread; it has no thread now.
    Event.objects.filter(kind=Event.ACTIVITY, conversation_id=conversation.pk).delete()
    realtime.event_record(
        workspace_id=conversation.workspace_id,
        kind="conversation:deleted",
        payload={"conversation_id": str(conversation.pk)},
        conversation=conversation,
    )
    conversation.delete()
