"""The Meta messaging envelope shared by Messenger and Instagram (docs/channels.md §meta.envelope).

Webhook bodies are ``{"object": "page" | "instagram", "entry": [{"id": <Page / IG account id>,
"time", "messaging": [<event>], "standby": [<event>], "changes": [{"field", "value": <event>}]}]}``
and every event is ``{"sender": {"id"}, "recipient": {"id"}, "timestamp": <ms>, <kind>: {...}}``
with kind one of message, delivery, read, reaction, message_edit, postback (others are ignored).

- ``messaging[]`` holds one event, batching happens across ``entry[]``: every entry is visited.
- ``standby[]`` carries the events of threads another app owns (handover protocol, e.g. the Page
  Inbox). They are treated exactly like ``messaging[]``: the customer's messages and the other
  app's replies belong in the inbox too, and the platform ids keep them from being stored twice.
- ``changes[{field, value}]`` is how the App Dashboard's test events and some Instagram-Login apps
  deliver the same events (docs/channels.md §meta.envelope): a value with a ``sender`` is an event.
- Webhooks carry no names, so contacts start without one (a profile lookup is not done here).

Sending goes to ``POST /me/messages`` (Messenger with the Page token, Instagram with the IG
token) through ``meta_graph``, which also turns Graph errors into the send errors of ``base``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from conversations.files import signed_url
from conversations.models import Message
from conversations.types import AttachmentKind, InboundAttachment, InboundMessage
from conversations.window import messaging_window
from integrations.providers import meta_graph
from integrations.providers.base import (
    AmbiguousSendError,
    ConnectError,
    ConnectResult,
    Deletion,
    Echo,
    Edit,
    MediaError,
    MediaLocation,
    PermanentSendError,
    RateLimit,
    Reaction,
    Routed,
    SendResult,
    StatusUpdate,
    WatermarkUpdate,
    outbound_attachment,
    recipient_external_id,
)

Type = Message.Type

# Attachment type → message type. Instagram shares (post, reel, story mention) carry the shared
# media's CDN URL; whether a story is a photo or a video is not said, so stories count as images
# and the raw type stays in metadata["attachment_type"].
ATTACHMENT_TYPES = {
    "image": Type.IMAGE,
    "sticker": Type.IMAGE,
    "gif": Type.IMAGE,
    "audio": Type.AUDIO,
    "video": Type.VIDEO,
    "file": Type.FILE,
    "share": Type.IMAGE,
    "post": Type.IMAGE,
    "ig_post": Type.IMAGE,
    "story": Type.IMAGE,
    "ig_story": Type.IMAGE,
    "story_mention": Type.IMAGE,
    "reel": Type.VIDEO,
    "ig_reel": Type.VIDEO,
}
# Messenger and Instagram name reactions; the emoji field is optional on Instagram.
REACTION_EMOJI = {
    "love": "\u2764\ufe0f",
    "like": "\U0001f44d",
    "dislike": "\U0001f44e",
    "smile": "\U0001f606",
    "wow": "\U0001f62e",
    "sad": "\U0001f622",
    "angry": "\U0001f620",
}
MAX_MEDIA_URL_LENGTH = 2000  # Message.media_url


# --- small readers: bodies are untrusted JSON, every level may be missing or the wrong type ----


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict]:
    """A list of objects; Instagram sometimes sends a lone object where a list is documented."""
    if isinstance(value, dict):
        return [value]
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _party_id(party: Any) -> str:
    """A sender/recipient id; chat-plugin guests and checkbox opt-ins have only ``user_ref``."""
    party = _dict(party)
    return str(party.get("id") or party.get("user_ref") or "")


def _instant(value: Any) -> datetime | None:
    """Event timestamps are ms since the epoch; dashboard test events send seconds, as strings."""
    try:
        number = int(value)
        return datetime.fromtimestamp(number / 1000 if number > 10**11 else number, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _timestamp_metadata(event: dict) -> dict:
    stamp = _instant(event.get("timestamp"))
    return {"platform_timestamp": stamp.isoformat()} if stamp else {}


# --- parsing -----------------------------------------------------------------------------------


def parse(payload: dict, *, account_ids: set[str]) -> list[Routed]:
    """Every event of every entry for a known account, oldest first (delivery order is not)."""
    events = sorted(_account_events(payload, account_ids), key=_event_order)
    return [
        Routed(account_id=account_id, item=item)
        for account_id, event, standby in events
        for item in _event_items(event, account_id, standby)
    ]


def _account_events(payload: dict, account_ids: set[str]):
    for entry in _dicts(payload.get("entry")):
        account_id = str(entry.get("id") or "")
        if account_id in account_ids:  # other tenants' accounts: ingestion would drop them
            yield from ((account_id, event, standby) for event, standby in _entry_events(entry))


def _event_order(event: tuple[str, dict, bool]) -> datetime:
    return _instant(event[1].get("timestamp")) or datetime.min.replace(tzinfo=UTC)


def _entry_events(entry: dict) -> list[tuple[dict, bool]]:
    """The entry's events, each with whether it came as ``standby`` (another app owns the
    thread: docs/channels.md §messenger.handover)."""
    changed = [_dict(change.get("value")) for change in _dicts(entry.get("changes"))]
    return [
        *((event, False) for event in _dicts(entry.get("messaging"))),
        *((event, True) for event in _dicts(entry.get("standby"))),
        *((value, False) for value in changed if "sender" in value),
    ]


def _event_items(event: dict, account_id: str, standby: bool = False) -> list:
    for kind, handler in _HANDLERS:
        body = event.get(kind)
        if isinstance(body, dict):
            items = handler(event, body, account_id)
            return [_on_standby(item) for item in items] if standby else items
    return []  # referral, optin, account_linking, handover, policy_enforcement, ...


def _on_standby(item):
    """A customer's message in a thread another app controls: stored, never answered by an
    assistant (the inbound flow reads this flag)."""
    if isinstance(item, InboundMessage):
        return replace(item, metadata={**(item.metadata or {}), "standby": True})
    return item


def _message_items(event: dict, message: dict, account_id: str) -> list:
    mid = str(message.get("mid") or "")
    if not mid:
        return []
    if message.get("is_deleted"):
        return [Deletion(target_external_id=mid)]
    sender_id = _party_id(event.get("sender"))
    if message.get("is_echo") or sender_id == account_id:
        return _echo_items(event, message, mid)
    if not sender_id:
        return []
    content = _content(message)
    reply_to = str(_dict(message.get("reply_to")).get("mid") or "")
    inbound = InboundMessage(
        external_contact_id=sender_id,
        external_id=mid,
        **content.message_fields(),
        metadata={**content.metadata, **_message_context(message), **_timestamp_metadata(event)},
        reply_to_external_id=reply_to or None,
    )
    return [inbound]


def _echo_items(event: dict, message: dict, mid: str) -> list:
    """A message the business account sent: sender and recipient are swapped."""
    contact_id = _party_id(event.get("recipient"))
    if not contact_id:
        return []
    content = _content(message)
    app = {"app_id": str(message["app_id"])} if message.get("app_id") else {}
    echo = Echo(
        external_id=mid,
        external_contact_id=contact_id,
        **content.message_fields(),
        our_message_id=_our_message_id(message.get("metadata")),
        metadata={**content.metadata, **app, **_timestamp_metadata(event)},
    )
    return [echo]


def _our_message_id(metadata: Any) -> str | None:
    """Our sends carry the message UUID as ``metadata``; other apps' metadata is anything."""
    try:
        return str(uuid.UUID(str(metadata)))
    except ValueError:
        return None


def _message_context(message: dict) -> dict:
    context: dict[str, Any] = {}
    story = _dict(_dict(message.get("reply_to")).get("story"))
    if story:
        context["reply_to_story"] = {
            "id": str(story.get("id", "")),
            "url": str(story.get("url", "")),
        }
    if _dict(message.get("referral")):
        context["referral"] = message["referral"]
    return context


def _delivery_items(event: dict, delivery: dict, account_id: str) -> list:
    """``mids`` "may not be present"; the watermark covers everything sent before it."""
    items: list = [
        StatusUpdate(external_id=mid, status=Message.Status.DELIVERED)
        for mid in _strings(delivery.get("mids"))
    ]
    return items + _watermark(event, delivery, Message.Status.DELIVERED)


def _read_items(event: dict, read: dict, account_id: str) -> list:
    """Messenger reads carry a watermark, Instagram reads the mid of the message seen."""
    items: list = []
    if read.get("mid"):
        items.append(StatusUpdate(external_id=str(read["mid"]), status=Message.Status.READ))
    return items + _watermark(event, read, Message.Status.READ)


def _watermark(event: dict, receipt: dict, status: str) -> list:
    contact_id = _party_id(event.get("sender"))
    watermark = _instant(receipt.get("watermark"))
    if not contact_id or watermark is None:
        return []
    return [WatermarkUpdate(external_contact_id=contact_id, status=status, watermark=watermark)]


def _strings(value: Any) -> list[str]:
    return [str(item) for item in value if item] if isinstance(value, list) else []


def _reaction_items(event: dict, reaction: dict, account_id: str) -> list:
    mid = str(reaction.get("mid") or "")
    contact_id = _party_id(event.get("sender"))
    if not mid or not contact_id:
        return []
    emoji = ""  # unreact removes the reaction
    if reaction.get("action") != "unreact":
        name = str(reaction.get("reaction") or "")
        emoji = str(reaction.get("emoji") or REACTION_EMOJI.get(name, name))
    return [Reaction(target_external_id=mid, external_contact_id=contact_id, emoji=emoji)]


def _edit_items(event: dict, edit: dict, account_id: str) -> list:
    mid = str(edit.get("mid") or "")
    return [Edit(target_external_id=mid, content=str(edit.get("text") or ""))] if mid else []


def _postback_items(event: dict, postback: dict, account_id: str) -> list:
    """A button tap (postback button, Get Started, ice breaker): an interactive message."""
    contact_id = _party_id(event.get("sender"))
    if not contact_id:
        return []
    title = str(postback.get("title") or "")
    payload = str(postback.get("payload") or "")
    inbound = InboundMessage(
        external_contact_id=contact_id,
        external_id=str(postback.get("mid") or _postback_id(contact_id, event, payload)),
        content=title or payload,
        type=Type.INTERACTIVE,
        metadata={
            "postback_title": title,
            "postback_payload": payload,
            **_message_context(postback),
            **_timestamp_metadata(event),
        },
    )
    return [inbound]


def _postback_id(contact_id: str, event: dict, payload: str) -> str:
    """Get Started and menu taps may have no mid: (sender, timestamp, payload) is the key."""
    key = f"{contact_id}|{event.get('timestamp')}|{payload}"
    return f"postback-{hashlib.sha256(key.encode()).hexdigest()[:40]}"


_HANDLERS = (
    ("message", _message_items),
    ("delivery", _delivery_items),
    ("read", _read_items),
    ("reaction", _reaction_items),
    ("message_edit", _edit_items),
    ("postback", _postback_items),
)


# --- message content -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Content:
    type: str
    content: str = ""
    media_url: str = ""
    metadata: dict = field(default_factory=dict)
    attachments: tuple[InboundAttachment, ...] = ()

    def message_fields(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "type": self.type,
            "media_url": self.media_url,
            "attachments": self.attachments,
        }


def _content(message: dict) -> _Content:
    text = str(message.get("text") or "")
    attachments = _dicts(message.get("attachments"))
    if message.get("is_unsupported"):
        return _Content(Type.UNSUPPORTED, text, metadata={"raw_type": "unsupported"})
    if attachments:
        return _attachment_content(text, attachments)
    quick_reply = _dict(message.get("quick_reply"))
    if "payload" in quick_reply:
        return _Content(
            Type.INTERACTIVE, text, metadata={"quick_reply_payload": str(quick_reply["payload"])}
        )
    if text:
        return _Content(Type.TEXT, text)
    return _Content(Type.UNSUPPORTED, metadata={"raw_type": "empty"})


def _attachment_content(text: str, attachments: list[dict]) -> _Content:
    """One message per mid: the first attachment sets the type, all are listed in metadata."""
    kind = str(attachments[0].get("type") or "")
    payload = _dict(attachments[0].get("payload"))
    metadata = _attachment_metadata(kind, payload, attachments)
    caption = text or str(payload.get("title") or "")
    url = str(payload.get("url") or "")
    media_url = url if kind in ATTACHMENT_TYPES and len(url) <= MAX_MEDIA_URL_LENGTH else ""
    if url and not media_url:
        metadata["url"] = url  # a link, or a URL too long to store as media: keep it here
    if kind in ATTACHMENT_TYPES:
        files = _files(attachments, caption)
        return _Content(ATTACHMENT_TYPES[kind], caption, media_url, metadata, files)
    if kind == "fallback" and (caption or url):
        return _Content(Type.TEXT, caption or url, metadata=metadata)  # a shared link
    return _Content(Type.UNSUPPORTED, caption, metadata={**metadata, "raw_type": kind})


# Message type of an attachment → the kind of file we download.
FILE_KINDS = {
    Type.IMAGE: AttachmentKind.IMAGE,
    Type.VIDEO: AttachmentKind.VIDEO,
    Type.AUDIO: AttachmentKind.AUDIO,
    Type.FILE: AttachmentKind.DOCUMENT,
}


def _file_name(url: str) -> str:
    try:
        return PurePosixPath(urlsplit(url).path).name[:255]
    except ValueError:
        return ""


def _files(attachments: list[dict], caption: str) -> tuple[InboundAttachment, ...]:
    """Every attachment with a link, to download at once: the links expire (docs/channels.md
    §meta.media)."""
    files = []
    for item in attachments:
        message_type = ATTACHMENT_TYPES.get(str(item.get("type") or ""))
        url = str(_dict(item.get("payload")).get("url") or "")
        if message_type is None or not url or len(url) > MAX_MEDIA_URL_LENGTH:
            continue
        files.append(
            InboundAttachment(
                kind=FILE_KINDS[message_type],
                source_url=url,
                file_name=_file_name(url) if message_type == Type.FILE else "",
                caption=caption if not files else "",
            )
        )
    return tuple(files)


def _attachment_metadata(kind: str, payload: dict, attachments: list[dict]) -> dict:
    metadata: dict[str, Any] = {"attachment_type": kind}
    for key in ("sticker_id", "reel_video_id", "ig_post_media_id", "title"):
        if payload.get(key) not in (None, ""):
            metadata[key] = payload[key]
    if len(attachments) > 1:
        metadata["attachments"] = [
            {
                "type": str(item.get("type") or ""),
                "url": str(_dict(item.get("payload")).get("url") or ""),
            }
            for item in attachments
        ]
    return metadata


# --- sending -----------------------------------------------------------------------------------

SEND_ATTACHMENT_TYPES = {
    Type.IMAGE: "image",
    Type.AUDIO: "audio",
    Type.VIDEO: "video",
    Type.FILE: "file",
}
FILE_SEND_TYPES = {
    AttachmentKind.IMAGE: "image",
    AttachmentKind.AUDIO: "audio",
    AttachmentKind.VIDEO: "video",
    AttachmentKind.DOCUMENT: "file",
}
# The Send API allows 10 calls/s for audio and video, far below the text rate.
AUDIO_VIDEO_PER_SECOND = 10


@dataclass(frozen=True)
class MetaMessagingClient:
    """What differs between Messenger and Instagram; everything else is the same Send API."""

    platform: str
    token_credential: str
    account_credential: str
    profile_fields: str
    sends_per_second: int
    # Messenger wants ``messaging_type`` on every send, echoes ``metadata`` back, can reuse
    # attachments and takes a file in the request (Attachment Upload); Instagram documents none
    # of these (its echoes are matched by mid, and it fetches files from a link).
    messenger_fields: bool

    def send(self, *, integration, message) -> SendResult:
        body = self._send_body(message, recipient_external_id(message))
        token = integration.credentials.get(self.token_credential, "")
        attachment = outbound_attachment(message)
        if attachment is not None and self.messenger_fields:
            response = self._send_with_file(body, attachment, token)
        else:
            response = meta_graph.graph_request(
                "POST", "me/messages", token=token, sending=True, json=body
            )
        message_id = str(response.get("message_id") or "")
        if not message_id:
            raise AmbiguousSendError(
                "The platform accepted the message without returning its id; it was not resent.",
                code="no_message_id",
            )
        # The Send API has no captions: a media message goes out without its text.
        dropped = {"caption_not_sent": True} if message.media_url and message.content else {}
        return SendResult(external_id=message_id, metadata=dropped)

    def _send_with_file(self, body: dict, attachment, token: str) -> dict:
        """Messenger's Attachment Upload: the file travels in the send request itself
        (docs/channels.md §messenger.files)."""
        fields = {
            name: json.dumps(value) if isinstance(value, dict) else value
            for name, value in body.items()
        }
        with attachment.file.open("rb") as content:
            upload = (attachment.file_name or "file", content, attachment.mime_type)
            return meta_graph.graph_request(
                "POST",
                "me/messages",
                token=token,
                sending=True,
                data=fields,
                files={"filedata": upload},
            )

    def _send_body(self, message, recipient_id: str) -> dict:
        body: dict[str, Any] = {"recipient": {"id": recipient_id}, **self._messaging_type(message)}
        body["message"] = self._message_object(message)
        if self.messenger_fields:
            body["message"]["metadata"] = str(message.pk)
            if "attachment" in body["message"]:  # Messenger may cache the file for later sends
                body["message"]["attachment"]["payload"]["is_reusable"] = True
        if message.reply_to_id and message.reply_to.external_id:
            body["reply_to"] = {"mid": message.reply_to.external_id}
        return body

    def _message_object(self, message) -> dict[str, Any]:
        attachment = outbound_attachment(message)
        if attachment is None:
            return _message_object(message)
        kind = FILE_SEND_TYPES[attachment.kind]
        # Messenger takes the file in the request; Instagram fetches it from a signed link.
        payload = {} if self.messenger_fields else {"url": signed_url(attachment)}
        return {"attachment": {"type": kind, "payload": payload}}

    def _messaging_type(self, message) -> dict:
        """RESPONSE inside the 24-hour window; a human agent's reply after it is tagged
        HUMAN_AGENT (allowed up to 7 days, needs the Human Agent permission). Assistants never
        use the tag (conversations.window decides, for both)."""
        window = messaging_window(message.conversation, sender=message.sender)
        if window.human_agent:
            return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
        return {"messaging_type": "RESPONSE"} if self.messenger_fields else {}

    def locate_media(self, *, integration, attachment) -> MediaLocation:
        """The attachment's CDN link itself, fetched at once: it expires (docs/channels.md
        §meta.media)."""
        if not meta_graph.media_url_allowed(attachment.source_url):
            raise MediaError(
                "The file's link does not point at Meta's media servers.", code="url_refused"
            )
        return MediaLocation(url=attachment.source_url, renewable=False)

    def connect(self, *, integration) -> ConnectResult:
        # The credential, not the id Graph answers with, is what webhooks are routed by
        # (Instagram-Login tokens answer with an app-scoped id).
        account_id = str(integration.credentials.get(self.account_credential, ""))
        token = integration.credentials.get(self.token_credential, "")
        try:
            profile = meta_graph.graph_request(
                "GET", account_id, token=token, params={"fields": self.profile_fields}
            )
        except PermanentSendError as exc:
            raise ConnectError(exc.reason) from exc
        name = str(profile.get("name") or profile.get("username") or "")
        details = {"username": str(profile["username"])} if profile.get("username") else {}
        return ConnectResult(external_account_id=account_id, display_name=name, details=details)

    def disconnect(self, *, integration) -> None:
        # Nothing to undo on Meta's side: the app stays subscribed so reconnecting needs no
        # new subscription; webhooks for the account keep being stored.
        return None

    def rate_limits(self, *, integration, message) -> list[RateLimit]:
        key = f"{self.platform}:{integration.external_account_id}"
        limits = [RateLimit(key, self.sends_per_second, 1)]
        has_media = bool(message.media_url) or outbound_attachment(message) is not None
        if has_media and message.type in (Type.AUDIO, Type.VIDEO):
            limits.append(RateLimit(f"{key}:audio-video", AUDIO_VIDEO_PER_SECOND, 1))
        return limits


# Messenger and Instagram show up to 13 quick replies with titles of at most 20 characters.
MAX_QUICK_REPLIES = 13


def _message_object(message) -> dict[str, Any]:
    if message.media_url:
        kind = SEND_ATTACHMENT_TYPES.get(message.type, "file")
        return {"attachment": {"type": kind, "payload": {"url": message.media_url}}}
    if not message.content.strip():
        raise PermanentSendError("The message has no text or media to send.", code="empty_message")
    body: dict[str, Any] = {"text": message.content}
    choices = (message.metadata or {}).get("quick_replies")
    if choices:
        body["quick_replies"] = [
            {"content_type": "text", "title": choice["title"][:20], "payload": choice["id"]}
            for choice in choices[:MAX_QUICK_REPLIES]
        ]
    return body
