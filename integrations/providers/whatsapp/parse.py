"""WhatsApp Cloud API webhook body → normalized items (docs/channels.md §whatsapp.webhook).

Who a message is from: ``from`` (the wa_id) when it is non-empty, else the business-scoped user
id (BSUID, ``from_user_id``). Username adopters arrive with an empty wa_id, and an empty string
must never become an id that two customers share. The BSUID is kept in the message metadata
(``user_id``) either way. ``value.contacts[]`` gives names, looked up by wa_id or BSUID.

Decisions:
- ``played`` (a voice note we sent was listened to) counts as ``read``: it can only follow a
  read, and delivery statuses only move forward.
- Shared contact cards have no message type of their own: they become ``unsupported`` messages
  whose content lists the names and numbers, so an agent can still read them.
- Echoes (``smb_message_echoes``, sent from the WhatsApp Business app) belong to the customer in
  ``to``; an echoed edit, revoke or reaction changes the message it targets, like the
  customer's own.
- ``message_template_status_update`` (a template reviewed, paused, disabled) is routed by the
  business account (``entry[].id``) and keeps the template's status current.
- Every other field (account_update, calls, ...) is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from conversations.models import Message
from conversations.types import AttachmentKind, EchoedMessage, InboundAttachment, InboundMessage
from integrations.providers.base import (
    Deletion,
    Edit,
    Item,
    Reaction,
    Routed,
    StatusUpdate,
    TemplateStatusUpdate,
)
from integrations.providers.meta_graph import READABLE_REASONS

MEDIA_TYPES = {
    "image": Message.Type.IMAGE,
    "sticker": Message.Type.IMAGE,
    "video": Message.Type.VIDEO,
    "audio": Message.Type.AUDIO,
    "document": Message.Type.FILE,
}
MEDIA_FIELDS = ("mime_type", "sha256", "caption", "filename", "voice", "animated")
CHANGE_TYPES = {"reaction", "edit", "revoke"}
STATUSES = {
    "sent": Message.Status.SENT,
    "delivered": Message.Status.DELIVERED,
    "read": Message.Status.READ,
    "played": Message.Status.READ,
    "failed": Message.Status.FAILED,
}
PHONE = re.compile(r"[0-9]{6,15}")
MEDIA_URL_MAX_LENGTH = 2000


def parse(payload: dict, *, account_ids: set[str]) -> list[Routed]:
    if payload.get("object") != "whatsapp_business_account":
        return []
    routed: list[Routed] = []
    for entry in _dicts(payload.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = _dict(change.get("value"))
            if change.get("field") in ACCOUNT_FIELDS:
                # Account-level: the business account (entry id), not a phone number.
                account_id = _id(entry.get("id"))
                items = ACCOUNT_FIELDS[change["field"]](value)
            else:
                account_id = _id(_dict(value.get("metadata")).get("phone_number_id"))
                items = _change_items(change.get("field"), value)
            if account_id in account_ids:
                routed.extend(Routed(account_id=account_id, item=item) for item in items)
    return routed


def _template_status(value: dict) -> list[Item]:
    """A template's review outcome (docs/channels.md §whatsapp.templates)."""
    name = _str(value.get("message_template_name"))
    event = _str(value.get("event")).lower()
    if not name or not event:
        return []
    update = TemplateStatusUpdate(
        template_id=_id(value.get("message_template_id")),
        name=name,
        language=_str(value.get("message_template_language")),
        status=event,
        reason=_str(value.get("reason")) if value.get("reason") not in (None, "NONE") else "",
    )
    return [update]


ACCOUNT_FIELDS = {"message_template_status_update": _template_status}


def _change_items(field_name: Any, value: dict) -> list[Item]:
    if field_name == "messages":
        contacts = _contacts_by_id(value)
        messages = _in_time_order(value.get("messages"))
        statuses = _in_time_order(value.get("statuses"))
        return [
            *(item for message in messages for item in _customer_items(message, contacts)),
            *(item for status in statuses for item in _status_items(status)),
        ]
    if field_name == "smb_message_echoes":
        echoes = _in_time_order(value.get("message_echoes"))
        return [item for echo in echoes for item in _echo_items(echo)]
    return []


# --- small readers: a parser never raises on a JSON object it does not understand -------------


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _str(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return str(value)


def _id(value: Any) -> str:
    return _str(value).strip()


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in ("", None, {}, [], False)}


def _epoch(value: Any) -> int | None:
    try:
        return int(_id(value))
    except ValueError:
        return None


def _iso(value: Any) -> str:
    seconds = _epoch(value)
    if seconds is None:
        return ""
    try:
        return datetime.fromtimestamp(seconds, tz=UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return ""


def _in_time_order(value: Any) -> list[dict]:
    # Meta does not guarantee order inside a batch; an edit must not overtake its original.
    return sorted(_dicts(value), key=lambda item: _epoch(item.get("timestamp")) or 0)


# --- customers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sender:
    external_id: str
    wa_id: str
    user_id: str
    name: str
    username: str


def _contacts_by_id(value: dict) -> dict[str, dict]:
    contacts: dict[str, dict] = {}
    for contact in _dicts(value.get("contacts")):
        for key in (_id(contact.get("wa_id")), _id(contact.get("user_id"))):
            if key:  # an empty wa_id must never match another empty one
                contacts[key] = contact
    return contacts


def _sender(message: dict, contacts: dict[str, dict]) -> _Sender | None:
    wa_id, user_id = _id(message.get("from")), _id(message.get("from_user_id"))
    contact = contacts.get(wa_id) or contacts.get(user_id) or {}
    wa_id = wa_id or _id(contact.get("wa_id"))
    user_id = user_id or _id(contact.get("user_id"))
    if not (wa_id or user_id):
        return None
    profile = _dict(contact.get("profile"))
    return _Sender(
        external_id=wa_id or user_id,
        wa_id=wa_id,
        user_id=user_id,
        name=_str(profile.get("name")).strip(),
        username=_id(profile.get("username")),
    )


def _customer_items(message: dict, contacts: dict[str, dict]) -> list[Item]:
    sender = _sender(message, contacts)
    if sender is None:
        return []
    if message.get("type") in CHANGE_TYPES:
        return _changes(message, actor=sender.external_id)
    external_id = _id(message.get("id"))
    if not external_id:
        return []
    content = _content_of(message)
    context = _dict(message.get("context"))
    return [
        InboundMessage(
            external_contact_id=sender.external_id,
            external_id=external_id,
            content=content.text,
            type=content.type,
            media_url=content.media_url,
            contact_name=sender.name,
            contact_phone=f"+{sender.wa_id}" if PHONE.fullmatch(sender.wa_id) else "",
            metadata={**_customer_metadata(message, sender, context), **content.metadata},
            reply_to_external_id=_id(context.get("id")) or None,
            attachments=content.attachments,
            contact_username=sender.username,
        )
    ]


def _customer_metadata(message: dict, sender: _Sender, context: dict) -> dict[str, Any]:
    return _compact(
        {
            "platform_type": _str(message.get("type")),
            "platform_timestamp": _iso(message.get("timestamp")),
            "wa_id": sender.wa_id,
            "user_id": sender.user_id,
            "username": sender.username,
            "forwarded": context.get("forwarded") is True,
            "frequently_forwarded": context.get("frequently_forwarded") is True,
            "referral": _dict(message.get("referral")),
        }
    )


def _changes(message: dict, *, actor: str) -> list[Item]:
    """Reactions, edits and revokes change the message they target; they are not messages."""
    kind = message.get("type")
    body = _dict(message.get(kind))
    target = _id(body.get("message_id" if kind == "reaction" else "original_message_id"))
    if not target:
        return []
    if kind == "reaction":
        emoji = _str(body.get("emoji"))  # empty or missing: the reaction was removed
        return [Reaction(target_external_id=target, external_contact_id=actor, emoji=emoji)]
    if kind == "edit":
        edited = _content_of(_dict(body.get("message")))
        return [Edit(target_external_id=target, content=edited.text)]
    return [Deletion(target_external_id=target)]


# --- receipts ----------------------------------------------------------------------------------


def _status_items(status: dict) -> list[Item]:
    external_id = _id(status.get("id"))
    mapped = STATUSES.get(_str(status.get("status")))
    if not external_id or mapped is None:
        return []  # a status we do not track (e.g. "deleted"), or no message to apply it to
    if mapped != Message.Status.FAILED:
        return [StatusUpdate(external_id=external_id, status=mapped)]
    code, reason = _error(status.get("errors"))
    failed = StatusUpdate(
        external_id=external_id, status=mapped, error_code=code, error_message=reason
    )
    return [failed]


def _error(errors: Any) -> tuple[str, str]:
    """The first error as (code, text): our wording for known codes, then Meta's details."""
    error = next(iter(_dicts(errors)), {})
    code = _id(error.get("code"))
    headline = (
        READABLE_REASONS.get(_epoch(code) or 0)
        or _str(error.get("message")).strip()
        or _str(error.get("title")).strip()
    )
    details = _str(_dict(error.get("error_data")).get("details")).strip()
    return code, " — ".join(dict.fromkeys(part for part in (headline, details) if part))


# --- echoes of the business's own messages (WhatsApp Business app, coexistence) ---------------


def _echo_items(echo: dict) -> list[Item]:
    customer = _id(echo.get("to")) or _id(echo.get("to_user_id"))
    if not customer:
        return []
    if echo.get("type") in CHANGE_TYPES:
        return _changes(echo, actor=_id(echo.get("from")) or "business")
    external_id = _id(echo.get("id"))
    if not external_id:
        return []
    content = _content_of(echo)
    metadata = {
        "platform_type": _str(echo.get("type")),
        "platform_timestamp": _iso(echo.get("timestamp")),
        "user_id": _id(echo.get("to_user_id")),
        **content.metadata,
    }
    return [
        EchoedMessage(
            external_id=external_id,
            external_contact_id=customer,
            content=content.text,
            type=content.type,
            media_url=content.media_url,
            metadata=_compact(metadata),
            attachments=content.attachments,
        )
    ]


# --- message content, shared by customer messages, edits and echoes ---------------------------


@dataclass(frozen=True)
class _Content:
    type: str
    text: str = ""
    media_url: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    attachments: tuple[InboundAttachment, ...] = ()


def _content_of(message: dict) -> _Content:
    kind = _str(message.get("type"))
    body = _dict(message.get(kind)) if kind else {}
    if kind in MEDIA_TYPES:
        return _media(MEDIA_TYPES[kind], body)
    handler = _CONTENT_HANDLERS.get(kind, _unsupported)
    return handler(body, message)


def _text(body: dict, _message: dict) -> _Content:
    return _Content(Message.Type.TEXT, _str(body.get("body")))


FILE_KINDS = {
    Message.Type.IMAGE: AttachmentKind.IMAGE,
    Message.Type.VIDEO: AttachmentKind.VIDEO,
    Message.Type.AUDIO: AttachmentKind.AUDIO,
    Message.Type.FILE: AttachmentKind.DOCUMENT,
}


def _media(message_type: str, body: dict) -> _Content:
    metadata = {"media_id": _id(body.get("id"))}
    metadata.update({name: body.get(name) for name in MEDIA_FIELDS})
    caption = _str(body.get("caption"))
    # Downloaded by its id, never by the body's url (docs/channels.md §whatsapp.media).
    files = ()
    if metadata["media_id"]:
        file = InboundAttachment(
            kind=FILE_KINDS[message_type],
            source_id=metadata["media_id"],
            mime_type=_str(body.get("mime_type")),
            file_name=_str(body.get("filename")),
            caption=caption,
            sha256=_str(body.get("sha256")),
        )
        files = (file,)
    return _Content(message_type, caption, _media_url(body.get("url")), _compact(metadata), files)


def _media_url(value: Any) -> str:
    """Only Meta's own media hosts, else the media id is used (SSRF guard).

    See docs/channels.md §whatsapp.media.
    """
    url = _id(value)
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return ""
    allowed = host == "lookaside.fbsbx.com" or host.endswith(".fbcdn.net")
    return url if parts.scheme == "https" and allowed and len(url) <= MEDIA_URL_MAX_LENGTH else ""


def _location(body: dict, _message: dict) -> _Content:
    fields = {
        name: _str(body.get(name)).strip()
        for name in ("latitude", "longitude", "name", "address", "url")
    }
    point = (
        f"{fields['latitude']},{fields['longitude']}"
        if fields["latitude"] and fields["longitude"]
        else ""
    )
    text = " ".join(part for part in (point, fields["name"], fields["address"]) if part)
    return _Content(Message.Type.LOCATION, text, metadata=_compact(fields))


def _shared_contacts(_body: dict, message: dict) -> _Content:
    cards = [_card(card) for card in _dicts(message.get("contacts"))]
    text = "; ".join(" ".join(filter(None, (card["name"], *card["phones"]))) for card in cards)
    return _Content(Message.Type.UNSUPPORTED, text, metadata={"shared_contacts": cards})


def _card(card: dict) -> dict[str, Any]:
    phones = (_id(phone.get("phone")) for phone in _dicts(card.get("phones")))
    name = _str(_dict(card.get("name")).get("formatted_name")).strip()
    return {"name": name, "phones": [phone for phone in phones if phone]}


def _interactive(body: dict, _message: dict) -> _Content:
    reply_type = _str(body.get("type"))
    reply = _dict(body.get(reply_type))
    metadata = {
        "interactive_type": reply_type,
        "reply_id": _id(reply.get("id")),
        "reply_title": _str(reply.get("title")),
        "reply_description": _str(reply.get("description")),
        # WhatsApp Flows submissions (nfm_reply) carry the form answers as a JSON string.
        "flow_name": _str(reply.get("name")),
        "flow_response": _str(reply.get("response_json")),
    }
    text = _str(reply.get("title")) or _str(reply.get("body"))
    return _Content(Message.Type.INTERACTIVE, text, metadata=_compact(metadata))


def _button(body: dict, _message: dict) -> _Content:
    """A template's quick-reply button: ``payload`` is ours, ``text`` is what the customer saw."""
    payload, text = _str(body.get("payload")), _str(body.get("text"))
    metadata = _compact({"button_payload": payload, "button_text": text})
    return _Content(Message.Type.INTERACTIVE, text or payload, metadata=metadata)


def _unsupported(body: dict, message: dict) -> _Content:
    """``unsupported`` (131051 unknown type, 131060 unavailable) and types we do not know yet."""
    code, reason = _error(message.get("errors"))
    metadata = {
        "unsupported_type": _str(body.get("type")),
        "error_code": code,
        "error_message": reason,
    }
    # ``system`` messages (number changed, ...), orders and future types may carry some text.
    text = _str(body.get("body")) or _str(body.get("text"))
    return _Content(Message.Type.UNSUPPORTED, text, metadata=_compact(metadata))


_CONTENT_HANDLERS = {
    "text": _text,
    "location": _location,
    "contacts": _shared_contacts,
    "interactive": _interactive,
    "button": _button,
}
