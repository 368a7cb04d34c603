"""Telegram webhook body (one ``Update``) → normalized items (docs/channels.md §telegram.updates).

Message ids are unique within a chat only, so every message is ``"<chat id>:<message id>"``;
``client.send`` gives our own messages the same shape, which is what reactions, replies and
button clicks refer to. The contact is the chat: in a private chat its id is the user's, and it
is where replies are sent. Routing is by the per-integration URL, so every item belongs to the
single account id the integration has.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from conversations.models import Message
from conversations.types import (
    START_PAYLOAD,
    AttachmentKind,
    InboundAttachment,
    InboundMessage,
)
from integrations.providers.base import (
    CallbackAnswer,
    ContactBlocked,
    ContactMoved,
    Edit,
    Item,
    Reaction,
    Routed,
)

# Message fields describing the envelope rather than what the customer sent: skipped when
# naming the raw type of a message we do not understand.
# fmt: off
ENVELOPE_FIELDS = frozenset({
    "message_id", "message_thread_id", "from", "sender_chat", "sender_boost_count",
    "sender_business_bot", "date", "business_connection_id", "chat", "forward_origin",
    "is_topic_message", "is_automatic_forward", "reply_to_message", "external_reply", "quote",
    "reply_to_story", "via_bot", "edit_date", "has_protected_content", "is_from_offline",
    "media_group_id", "author_signature", "entities", "caption", "caption_entities",
    "link_preview_options", "effect_id", "show_caption_above_media", "has_media_spoiler",
    "reply_markup",
})
# fmt: on

# Telegram field → message type, checked in this order. A GIF carries both ``animation`` and
# ``document``; the animation is what the customer sent.
MEDIA_FIELDS: dict[str, str] = {
    "animation": Message.Type.VIDEO,
    "document": Message.Type.FILE,
    "voice": Message.Type.AUDIO,
    "audio": Message.Type.AUDIO,
    "video": Message.Type.VIDEO,
    "video_note": Message.Type.VIDEO,
    "sticker": Message.Type.IMAGE,
}

Content = tuple[str, str, dict[str, Any]]  # content, message type, metadata
FILE_KINDS = {
    Message.Type.IMAGE: AttachmentKind.IMAGE,
    Message.Type.VIDEO: AttachmentKind.VIDEO,
    Message.Type.AUDIO: AttachmentKind.AUDIO,
    Message.Type.FILE: AttachmentKind.DOCUMENT,
}
# A deep link t.me/<bot>?start=<payload> opens the chat with "/start <payload>"
# (docs/channels.md §telegram.links).
START_COMMAND = "/start"


def parse(payload: dict, *, account_ids: set[str]) -> list[Routed]:
    if len(account_ids) != 1:
        return []  # one bot per URL: anything else is not ours to route
    (account_id,) = account_ids
    return [Routed(account_id=account_id, item=item) for item in _update_items(payload)]


def _update_items(update: dict) -> list[Item]:
    for field, handler in UPDATE_HANDLERS.items():
        body = update.get(field)
        if isinstance(body, dict):
            return handler(body)
    # channel_post, inline queries, polls, chat_member, ...: not a customer conversation.
    return []


# --- identities ----------------------------------------------------------------------------------


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _id_of(entity: Any) -> str:
    if isinstance(entity, dict) and entity.get("id") is not None:
        return str(entity["id"])
    return ""


def _chat_id(body: dict) -> str:
    """Where replies go: the chat, else (a chat-less update) the user who acted."""
    return _id_of(body.get("chat")) or _id_of(body.get("from"))


def _name(entity: Any) -> str:
    if not isinstance(entity, dict):
        return ""
    full = " ".join(str(entity.get(part) or "") for part in ("first_name", "last_name")).strip()
    return full or str(entity.get("username") or entity.get("title") or "")


def _own_phone(message: dict) -> str:
    """Telegram never reveals a user's phone, unless they share their own contact card."""
    shared = message.get("contact")
    if isinstance(shared, dict) and _id_of(message.get("from")) == str(shared.get("user_id")):
        return str(shared.get("phone_number") or "")
    return ""


def _iso(timestamp: Any) -> dict[str, str]:
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        return {}
    return {"platform_timestamp": datetime.fromtimestamp(timestamp, tz=UTC).isoformat()}


# --- message content -----------------------------------------------------------------------------


def _media(media: dict, caption: str) -> dict[str, Any]:
    # No URL without a getFile call (which would put the bot token in the link): keep the ids.
    return {
        "media_id": str(media.get("file_id") or ""),
        "file_unique_id": str(media.get("file_unique_id") or ""),
        "mime_type": str(media.get("mime_type") or ""),
        "filename": str(media.get("file_name") or ""),
        "caption": caption,
    }


def _largest(sizes: list) -> dict:
    candidates = [size for size in sizes if isinstance(size, dict)]
    return max(
        candidates, key=lambda s: (s.get("width", 0) * s.get("height", 0), s.get("file_size", 0))
    )


def _location(message: dict) -> Content | None:
    venue = _dict(message.get("venue"))
    point = venue.get("location") or message.get("location")
    if not isinstance(point, dict):
        return None
    latitude, longitude = point.get("latitude"), point.get("longitude")
    name, address = str(venue.get("title") or ""), str(venue.get("address") or "")
    content = " ".join(part for part in (f"{latitude},{longitude}", name, address) if part)
    metadata = {
        "raw_type": "venue" if venue else "location",
        "latitude": latitude,
        "longitude": longitude,
        "name": name,
        "address": address,
    }
    return content, Message.Type.LOCATION, metadata


def _shared_contact(message: dict) -> Content | None:
    shared = message.get("contact")
    if not isinstance(shared, dict):
        return None
    phone = str(shared.get("phone_number") or "")
    content = " ".join(part for part in (_name(shared), phone) if part)
    fields = ("phone_number", "first_name", "last_name", "user_id")
    card = {field: shared[field] for field in fields if field in shared}
    return content, Message.Type.TEXT, {"raw_type": "contact", "shared_contact": card}


def _attachment(message: dict) -> Content | None:
    caption = str(message.get("caption") or "")
    photo = message.get("photo")
    if isinstance(photo, list) and any(isinstance(size, dict) for size in photo):
        return (
            caption,
            Message.Type.IMAGE,
            {"raw_type": "photo", **_media(_largest(photo), caption)},
        )
    for field, kind in MEDIA_FIELDS.items():
        media = message.get(field)
        if isinstance(media, dict):
            metadata = {"raw_type": field, **_media(media, caption)}
            if field == "sticker":
                metadata["emoji"] = str(media.get("emoji") or "")
            return caption, kind, metadata
    return None


def _files(kind: str, metadata: dict[str, Any], media: dict) -> tuple[InboundAttachment, ...]:
    """The file to download (by file_id, through getFile: docs/channels.md §telegram.media)."""
    file_id = metadata.get("media_id") or ""
    if not file_id or kind not in FILE_KINDS:
        return ()
    size = media.get("file_size")
    file = InboundAttachment(
        kind=FILE_KINDS[kind],
        source_id=file_id,
        mime_type=metadata.get("mime_type") or "",
        file_name=metadata.get("filename") or "",
        caption=metadata.get("caption") or "",
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
    )
    return (file,)


def _attachments(message: dict, kind: str, metadata: dict[str, Any]) -> tuple:
    photo = message.get("photo")
    if metadata.get("raw_type") == "photo" and isinstance(photo, list):
        return _files(kind, metadata, _largest(photo))
    media = message.get(metadata.get("raw_type") or "")
    if not isinstance(media, dict) or media.get("is_animated") or media.get("is_video"):
        return ()  # animated (Lottie) and video stickers: the emoji stands for them
    return _files(kind, metadata, media)


def _start_payload(text: str) -> dict[str, str]:
    command, _, payload = text.strip().partition(" ")
    # "/start@SomeBot payload" in groups names the bot.
    if command.split("@", 1)[0] != START_COMMAND or not payload.strip():
        return {}
    return {START_PAYLOAD: payload.strip()}


def _raw_type(message: dict) -> str:
    return next((field for field in message if field not in ENVELOPE_FIELDS), "unknown")


def _content(message: dict) -> Content:
    if isinstance(message.get("text"), str):
        text = message["text"]
        return text, Message.Type.TEXT, {"raw_type": "text", **_start_payload(text)}
    for reader in (_attachment, _location, _shared_contact):
        found = reader(message)
        if found is not None:
            return found
    # dice, poll, game, story, service messages...: shown as unsupported, never dropped.
    return "", Message.Type.UNSUPPORTED, {"raw_type": _raw_type(message)}


# --- updates -------------------------------------------------------------------------------------


def _in_chat(chat_id: str, message: dict) -> str | None:
    """The id of a message this update points at (replied to, or holding the button)."""
    message_id = message.get("message_id")
    return f"{chat_id}:{message_id}" if message_id is not None else None


def _inbound(message: dict) -> InboundMessage | None:
    chat_id = _chat_id(message)
    message_id = message.get("message_id")
    if not chat_id or message_id is None:
        return None
    content, kind, metadata = _content(message)
    return InboundMessage(
        external_contact_id=chat_id,
        external_id=f"{chat_id}:{message_id}",
        content=content,
        type=kind,
        contact_name=_name(message.get("chat")) or _name(message.get("from")),
        contact_phone=_own_phone(message),
        metadata={**_iso(message.get("date")), **metadata},
        reply_to_external_id=_in_chat(chat_id, _dict(message.get("reply_to_message"))),
        attachments=_attachments(message, kind, metadata),
        contact_username=str(_dict(message.get("chat")).get("username") or ""),
    )


def _migration(message: dict) -> list[Item]:
    """A group became a supergroup: its chat id changes (the service message comes to the old
    chat with ``migrate_to_chat_id`` and to the new one with ``migrate_from_chat_id``)."""
    chat_id = _chat_id(message)
    if message.get("migrate_to_chat_id") is not None:
        new_id = str(message["migrate_to_chat_id"])
        return [ContactMoved(external_contact_id=chat_id, new_external_contact_id=new_id)]
    old_id = str(message["migrate_from_chat_id"])
    return [ContactMoved(external_contact_id=old_id, new_external_contact_id=chat_id)]


def _message_items(message: dict) -> list[Item]:
    if "migrate_to_chat_id" in message or "migrate_from_chat_id" in message:
        return _migration(message)
    inbound = _inbound(message)
    return [inbound] if inbound else []


def _edited_items(message: dict) -> list[Item]:
    # Same message_id as the original; a live location's moves arrive as edits too.
    inbound = _inbound(message)
    return (
        [Edit(target_external_id=inbound.external_id, content=inbound.content)] if inbound else []
    )


def _callback_items(query: dict) -> list[Item]:
    """A button press: shown as the customer's choice, and answered so the button stops spinning.

    The contact is the chat holding the button (the user's own chat when it is private); a
    button of an inline-mode message has no chat, so the user who pressed it is the contact.
    """
    callback_id = str(query.get("id") or "")
    if not callback_id:
        return []
    message = _dict(query.get("message"))
    contact_id = _id_of(message.get("chat")) or _id_of(query.get("from"))
    if not contact_id:
        return [CallbackAnswer(callback_id=callback_id)]
    data = str(query.get("data") or query.get("game_short_name") or "")
    inbound = InboundMessage(
        external_contact_id=contact_id,
        external_id=f"callback:{callback_id}",
        content=data,
        type=Message.Type.INTERACTIVE,
        contact_name=_name(message.get("chat")) or _name(query.get("from")),
        metadata={"raw_type": "callback_query", "callback_data": data, "callback_id": callback_id},
        reply_to_external_id=_in_chat(contact_id, message),
    )
    return [inbound, CallbackAnswer(callback_id=callback_id)]


def _reaction_items(update: dict) -> list[Item]:
    chat_id = _chat_id(update)
    reactor = _id_of(update.get("user")) or _id_of(update.get("actor_chat"))
    message_id = update.get("message_id")
    if not chat_id or not reactor or message_id is None:
        return []
    new_reaction = update.get("new_reaction")
    reactions = (
        [r for r in new_reaction if isinstance(r, dict)] if isinstance(new_reaction, list) else []
    )
    emojis = [str(r["emoji"]) for r in reactions if r.get("type") == "emoji" and r.get("emoji")]
    if reactions and not emojis:
        return []  # custom emoji or paid stars only: nothing we can display
    # Premium users may set several reactions; they are kept together as the reactor's one.
    emoji = "".join(emojis)
    return [
        Reaction(
            target_external_id=f"{chat_id}:{message_id}", external_contact_id=reactor, emoji=emoji
        )
    ]


def _member_items(update: dict) -> list[Item]:
    # "kicked" means the user blocked the bot; "member" right after "kicked", that they
    # unblocked it. Other transitions (groups, admins) say nothing about reachability.
    old = _dict(update.get("old_chat_member")).get("status")
    new = _dict(update.get("new_chat_member")).get("status")
    chat_id = _chat_id(update)
    if not chat_id:
        return []
    if new == "kicked":
        return [ContactBlocked(external_contact_id=chat_id, blocked=True)]
    if old == "kicked" and new == "member":
        return [ContactBlocked(external_contact_id=chat_id, blocked=False)]
    return []


UPDATE_HANDLERS: dict[str, Callable[[dict], list[Item]]] = {
    "message": _message_items,
    "edited_message": _edited_items,
    "callback_query": _callback_items,
    "message_reaction": _reaction_items,
    "my_chat_member": _member_items,
}
