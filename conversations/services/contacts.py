"""Contacts and their channel identities."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from conversations.models import Contact, ContactIdentity
from conversations.services.events import contact_updated


@transaction.atomic
def contact_update(*, contact: Contact, data: dict[str, Any]) -> Contact:
    allowed = {"name", "phone", "email", "avatar_url", "metadata", "note", "attributes"}
    for field, value in data.items():
        if field in allowed:
            setattr(contact, field, value)
    contact.save(update_fields=[*sorted(set(data) & allowed), "updated_at"])
    contact_updated(contact)
    return contact


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


def contact_identity_moved(*, integration, external_id: str, new_external_id: str) -> bool:
    """The customer's address on the channel changed (a Telegram group became a supergroup
    and got a new chat id): later messages, both ways, use the new one. False when there is
    no such identity, or the new address already belongs to another (both are kept)."""
    try:
        with transaction.atomic():
            moved = ContactIdentity.objects.filter(
                integration=integration, external_id=external_id
            ).update(external_id=new_external_id)
    except IntegrityError:
        return False
    return bool(moved)
