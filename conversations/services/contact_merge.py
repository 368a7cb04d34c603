"""Merging two contacts that are one customer, undoing a merge, and dismissing a suggestion.

``contact_merge(primary, secondary)`` folds the secondary into the primary: its channel
identities and conversations move to the primary (so the customer's next message on any
channel lands there), the primary's empty name, phone, e-mail and avatar are filled from it,
its note is appended to the primary's and its attributes and metadata fill the keys the
primary lacks. The secondary is kept, marked ``merged_into`` and hidden everywhere, and a
``ContactMerge`` records exactly what moved and what changed, so ``contact_merge_undo`` can
put it back until ``undo_until`` (``CONTACT_MERGE_UNDO_DAYS``).

Locks, always in this order, so merges, undos and ingestion queue rather than deadlock: the
identities that move (ingestion updates an identity before its contact), both contacts in id
order, then the conversations that move in id order (the order bulk changes use).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts import audit
from accounts.models import User
from conversations import realtime
from conversations.models import (
    Contact,
    ContactDuplicateDismissal,
    ContactIdentity,
    ContactMerge,
    Conversation,
)
from conversations.selectors import contact_pair_key
from conversations.serializers import ContactMergeSerializer, contact_data
from conversations.services.events import conversation_updated
from flame.exceptions import ConflictError, InvalidInput, PermissionDeniedError

FILLED_FIELDS = ("name", "phone", "email", "avatar_url")
MERGED_DICTS = ("attributes", "metadata")
NOTE_SEPARATOR = "\n\n"


# --- merge ---------------------------------------------------------------------------------------


@transaction.atomic
def contact_merge(*, by: User, primary: Contact, secondary: Contact) -> ContactMerge:
    """Fold ``secondary`` into ``primary`` (both seen by ``by``: the callers' selectors)."""
    _ensure_pair(primary, secondary)
    _lock_identities(Q(contact_id=secondary.pk))
    primary, secondary = _locked_contacts(primary.pk, secondary.pk)
    _ensure_not_merged(primary, secondary)
    _ensure_channels_apart(primary, secondary)
    identity_ids = _move_identities(Q(contact_id=secondary.pk), to=primary)
    conversation_ids = _move_conversations(Q(contact_id=secondary.pk), to=primary)
    changes = _fill_primary(primary, secondary)
    now = timezone.now()
    Contact.objects.filter(pk=secondary.pk).update(merged_into=primary, merged_at=now)
    merge = ContactMerge.objects.create(
        workspace_id=primary.workspace_id,
        primary=primary,
        secondary=secondary,
        merged_by=by,
        created_at=now,
        undo_until=now + timedelta(days=settings.CONTACT_MERGE_UNDO_DAYS),
        identity_ids=[str(pk) for pk in identity_ids],
        conversation_ids=[str(pk) for pk in conversation_ids],
        changes=changes,
    )
    _announce("contact:merged", merge)
    _audit(audit.CONTACT_MERGED, merge, by)
    return merge


def _ensure_pair(primary: Contact, secondary: Contact, *, field: str = "other_id") -> None:
    if primary.pk == secondary.pk:
        raise InvalidInput("Invalid input.", details={field: ["Two different contacts, please."]})
    if primary.workspace_id != secondary.workspace_id:
        # The selectors never hand over another workspace's contact; a shell might.
        raise InvalidInput("Invalid input.", details={field: ["Not found."]})


def _lock_identities(where: Q) -> None:
    list(ContactIdentity.objects.select_for_update().filter(where).order_by("pk").values("pk"))


def _locked_contacts(first_id, second_id) -> tuple[Contact, Contact]:
    """Both contacts re-read under a row lock, in id order; returned as asked."""
    locked = Contact.objects.select_for_update().filter(pk__in=[first_id, second_id])
    rows = {contact.pk: contact for contact in locked.order_by("pk")}
    return rows[first_id], rows[second_id]


def _ensure_not_merged(*contacts: Contact) -> None:
    for contact in contacts:
        if contact.merged_into_id is not None:
            raise ConflictError(
                "This contact was merged into another one already.",
                code="contact_already_merged",
            )


def _ensure_channels_apart(primary: Contact, secondary: Contact) -> None:
    """One open conversation per customer and channel, and replies go to the customer's one
    account there: two accounts on the same channel cannot become one contact."""
    theirs = ContactIdentity.objects.filter(contact_id=secondary.pk).values("integration_id")
    if ContactIdentity.objects.filter(contact_id=primary.pk, integration_id__in=theirs).exists():
        raise ConflictError(
            "Both contacts have their own account on the same channel, so they cannot be "
            "merged: replies there could reach only one of them.",
            code="contact_same_channel",
        )


def _move_identities(where: Q, *, to: Contact) -> list:
    ids = list(ContactIdentity.objects.filter(where).order_by("pk").values_list("pk", flat=True))
    ContactIdentity.objects.filter(pk__in=ids).update(contact=to)
    return ids


def _move_conversations(where: Q, *, to: Contact) -> list:
    ids = list(
        Conversation.objects.select_for_update()
        .filter(where)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    try:
        with transaction.atomic():
            Conversation.objects.filter(pk__in=ids).update(contact=to, updated_at=timezone.now())
    except IntegrityError as exc:
        # Both would have an open conversation on one channel (the partial unique index).
        raise ConflictError(
            "Both contacts have an open conversation on the same channel; resolve one first.",
            code="contact_open_conversations_clash",
        ) from exc
    return ids


def _fill_primary(primary: Contact, secondary: Contact) -> dict[str, Any]:
    """Write onto the primary what only the secondary knows; returns each change as
    ``{"before", "after"}`` (fields) or ``{"added": {...}}`` (attributes, metadata)."""
    changes: dict[str, Any] = {}
    for field in FILLED_FIELDS:
        theirs = getattr(secondary, field)
        if theirs and not getattr(primary, field):
            changes[field] = {"before": getattr(primary, field), "after": theirs}
    if secondary.note.strip():
        joined = f"{primary.note}{NOTE_SEPARATOR}{secondary.note}"
        changes["note"] = {
            "before": primary.note,
            "after": joined if primary.note.strip() else secondary.note,
        }
    for name in MERGED_DICTS:
        mine = getattr(primary, name) or {}
        theirs = getattr(secondary, name) or {}
        added = {key: value for key, value in theirs.items() if key not in mine}
        if added:
            changes[name] = {"added": added}
    _apply(primary, changes, undo=False)
    return changes


def _apply(contact: Contact, changes: dict[str, Any], *, undo: bool) -> None:
    """Apply a merge's changes to the primary, or take them back where the primary still
    holds what the merge wrote (a value edited since the merge is the newer truth, kept)."""
    touched = []
    for field, change in changes.items():
        if field in MERGED_DICTS:
            current = dict(getattr(contact, field) or {})
            for key, value in change["added"].items():
                if not undo:
                    current[key] = value
                elif key in current and current[key] == value:
                    del current[key]
            value = current
        elif not undo:
            value = change["after"]
        elif getattr(contact, field) == change["after"]:
            value = change["before"]
        else:
            continue
        setattr(contact, field, value)
        touched.append(field)
    if touched:
        contact.save(update_fields=[*touched, "updated_at"])


# --- undo ----------------------------------------------------------------------------------------


@transaction.atomic
def contact_merge_undo(*, by: User, merge: ContactMerge) -> ContactMerge:
    """Put the identities and conversations back on the secondary, take back the primary's
    fields the merge wrote, and show the secondary again.

    What goes back: the identities the merge moved, and the conversations it moved, that are
    still on the primary; and the conversations started after the merge through one of those
    identities (on a channel where the primary keeps no account of its own), so the
    customer's thread there follows its account. A conversation started after the merge on a
    channel the primary has its own account on stays with the primary.
    """
    _ensure_may_undo(by, merge)
    merge = ContactMerge.objects.select_for_update().get(pk=merge.pk)
    _lock_identities(Q(pk__in=merge.identity_ids, contact_id=merge.primary_id))
    primary, secondary = _locked_contacts(merge.primary_id, merge.secondary_id)
    _ensure_undoable(merge, primary, secondary)
    identity_ids = _move_identities(
        Q(pk__in=merge.identity_ids, contact_id=primary.pk), to=secondary
    )
    _move_conversations(_returning_conversations(merge, primary, identity_ids), to=secondary)
    _apply(primary, merge.changes, undo=True)
    Contact.objects.filter(pk=secondary.pk).update(merged_into=None, merged_at=None)
    merge.undone_at, merge.undone_by = timezone.now(), by
    merge.save(update_fields=["undone_at", "undone_by"])
    _announce("contact:merge_undone", merge)
    _audit(audit.CONTACT_MERGE_UNDONE, merge, by)
    return merge


def _ensure_may_undo(by: User, merge: ContactMerge) -> None:
    """Admins undo any merge of their workspace; an agent, the merges they made."""
    if by.workspace_id != merge.workspace_id:
        raise PermissionDeniedError("Not your workspace.")
    if not (by.is_workspace_admin or merge.merged_by_id == by.pk):
        raise PermissionDeniedError("Only admins and the member who merged can undo a merge.")


def _ensure_undoable(merge: ContactMerge, primary: Contact, secondary: Contact) -> None:
    if merge.undone_at is not None:
        raise ConflictError("This merge was undone already.", code="contact_merge_undone")
    if timezone.now() > merge.undo_until:
        raise ConflictError(
            "This merge can no longer be undone: its undo period is over.",
            code="contact_merge_undo_expired",
            details={"undo_until": merge.undo_until.isoformat()},
        )
    if primary.merged_into_id is not None:
        raise ConflictError(
            "The contact kept was merged into another one since; undo that merge first.",
            code="contact_merge_undo_later_first",
        )
    if secondary.merged_into_id != primary.pk:
        raise ConflictError("This merge no longer stands.", code="contact_merge_undone")


def _returning_conversations(merge: ContactMerge, primary: Contact, identity_ids: list) -> Q:
    """The conversations going back (``contact_merge_undo``'s docstring says which)."""
    returning = Q(pk__in=merge.conversation_ids)
    back = set(
        ContactIdentity.objects.filter(pk__in=identity_ids).values_list("integration_id", flat=True)
    )
    kept = set(
        ContactIdentity.objects.filter(contact_id=primary.pk).values_list(
            "integration_id", flat=True
        )
    )
    if back - kept:
        returning |= Q(integration_id__in=back - kept, created_at__gte=merge.created_at)
    return Q(contact_id=primary.pk) & returning


# --- what the change tells ----------------------------------------------------------------------


def _announce(kind: str, merge: ContactMerge) -> None:
    """Every conversation of both contacts is announced with ``contact_changed`` (lists and
    open contact panels show the contact as it is now); the merge itself reaches the admins,
    who see every contact, with both contacts as ``GET /api/contacts/:id`` shows them."""
    for conversation in Conversation.objects.filter(
        contact_id__in=[merge.primary_id, merge.secondary_id]
    ).order_by("pk"):
        conversation_updated(conversation, contact_changed=True)
    contacts = Contact.objects.prefetch_related("identities__integration").in_bulk(
        [merge.primary_id, merge.secondary_id]
    )
    merge = ContactMerge.objects.select_related(
        "primary", "secondary", "merged_by", "undone_by"
    ).get(pk=merge.pk)
    realtime.event_record(
        workspace_id=merge.workspace_id,
        kind=kind,
        payload={
            "contact": contact_data(contacts[merge.primary_id]),
            "merged_contact": contact_data(contacts[merge.secondary_id]),
            "merge": dict(ContactMergeSerializer(merge).data),
        },
        admins_only=True,
    )


def _audit(action: str, merge: ContactMerge, by: User) -> None:
    primary, secondary = merge.primary, merge.secondary
    audit.record(
        action=action,
        workspace_id=merge.workspace_id,
        actor=by,
        target=("contact", primary.pk),
        data={
            "merge_id": str(merge.pk),
            "primary": {"id": str(primary.pk), "name": primary.name},
            "secondary": {"id": str(secondary.pk), "name": secondary.name},
            "identities": len(merge.identity_ids),
            "conversations": len(merge.conversation_ids),
        },
    )


# --- dismissing a suggestion ---------------------------------------------------------------------


@transaction.atomic
def contact_duplicate_dismiss(*, by: User, first: Contact, second: Contact) -> None:
    """``first`` and ``second`` are not the same person: never suggest them together again
    (saying so twice changes nothing)."""
    _ensure_pair(first, second, field="contact_ids")
    low, high = contact_pair_key(first.pk, second.pk)
    ContactDuplicateDismissal.objects.get_or_create(
        first_id=low,
        second_id=high,
        defaults={"workspace_id": first.workspace_id, "dismissed_by": by},
    )
