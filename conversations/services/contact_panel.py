"""What agents edit about a contact (the contact panel, ``/api/contacts``): name, phone,
e-mail, a free note, and the custom attributes the workspace defines (``ContactAttribute``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction

from accounts.models import User
from conversations.models import Contact, ContactAttribute, Conversation
from conversations.services.contacts import contact_update
from conversations.services.events import conversation_updated
from flame.exceptions import ConflictError, InvalidInput

MAX_TEXT_ATTRIBUTE = 500


def _as_number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("Must be a number.")
    try:
        number = float(value)
    except ValueError as exc:
        raise ValueError("Must be a number.") from exc
    if not math.isfinite(number):
        raise ValueError("Must be a number.")
    return int(number) if number.is_integer() else number


def _as_date(value: Any) -> str:
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError as exc:
        raise ValueError("Must be a date (YYYY-MM-DD).") from exc


def _as_link(value: Any) -> str:
    text = str(value).strip()
    try:
        URLValidator(schemes=["http", "https"])(text)
    except ValidationError as exc:
        raise ValueError("Must be a web address (http or https).") from exc
    if len(text) > 1000:
        raise ValueError("At most 1000 characters.")
    return text


def _as_text(value: Any) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueError("Must be text.")
    text = str(value)
    if len(text) > MAX_TEXT_ATTRIBUTE:
        raise ValueError(f"At most {MAX_TEXT_ATTRIBUTE} characters.")
    return text


def _as_checkbox(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("Must be true or false.")
    return value


_COERCE: dict[str, Callable[[Any], Any]] = {
    ContactAttribute.Type.TEXT: _as_text,
    ContactAttribute.Type.NUMBER: _as_number,
    ContactAttribute.Type.DATE: _as_date,
    ContactAttribute.Type.LINK: _as_link,
    ContactAttribute.Type.CHECKBOX: _as_checkbox,
}


def _attribute_values(contact: Contact, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` checked against the workspace's attributes and merged onto the contact's
    (null or "" clears one); InvalidInput naming every bad key, nothing applied."""
    types = dict(
        ContactAttribute.objects.filter(workspace_id=contact.workspace_id).values_list(
            "key", "type"
        )
    )
    merged, errors = dict(contact.attributes or {}), []
    for key, value in values.items():
        if key not in types:
            errors.append(f"{key}: Unknown attribute.")
        elif value is None or value == "":
            merged.pop(key, None)
        else:
            try:
                merged[key] = _COERCE[types[key]](value)
            except ValueError as exc:
                errors.append(f"{key}: {exc}")
    if errors:
        raise InvalidInput("Invalid input.", details={"attributes": errors})
    return merged


@transaction.atomic
def contact_edit(*, contact: Contact, data: dict[str, Any]) -> Contact:
    """An agent's edit from the contact panel or the API: name, phone, e-mail, the note and
    custom attributes; the contact's conversations are announced so lists show the new name."""
    changes = dict(data)
    if "attributes" in changes:
        changes["attributes"] = _attribute_values(contact, changes["attributes"] or {})
    contact_update(contact=contact, data=changes)
    for conversation in Conversation.objects.filter(contact=contact).order_by("pk"):
        conversation_updated(conversation)
    return contact


def _attribute_conflict() -> ConflictError:
    return ConflictError(
        "An attribute with this key already exists.",
        code="attribute_exists",
        details={"key": ["Already exists."]},
    )


@transaction.atomic
def contact_attribute_create(*, by: User, key: str, label: str, type: str) -> ContactAttribute:
    try:
        with transaction.atomic():
            return ContactAttribute.objects.create(
                workspace_id=by.member_workspace_id, key=key, label=label.strip(), type=type
            )
    except IntegrityError as exc:
        raise _attribute_conflict() from exc


@transaction.atomic
def contact_attribute_update(*, attribute: ContactAttribute, label: str) -> ContactAttribute:
    """Only the label changes: a new type would leave stored values meaning something else."""
    attribute.label = label.strip()
    attribute.save(update_fields=["label"])
    return attribute


@transaction.atomic
def contact_attribute_delete(*, attribute: ContactAttribute) -> None:
    """Delete the attribute and every contact's value for it."""
    holders = Contact.objects.filter(
        workspace_id=attribute.workspace_id, attributes__has_key=attribute.key
    )
    for contact in holders.select_for_update():
        contact.attributes.pop(attribute.key, None)
        contact.save(update_fields=["attributes", "updated_at"])
    attribute.delete()
