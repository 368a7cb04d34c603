"""WhatsApp Cloud API: send one message (text, a file uploaded first, an approved template),
fetch customers' files, list the account's templates, check the credentials
(docs/channels.md §whatsapp.send, §whatsapp.media, §whatsapp.templates).

A 200 only means Meta accepted the message; later failures (131047 outside the 24-hour window,
...) arrive as ``failed`` status webhooks, which parse.py turns into status updates.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from conversations.models import Message
from conversations.types import AttachmentKind
from integrations.providers.base import (
    AmbiguousSendError,
    ConnectError,
    ConnectResult,
    MediaError,
    MediaLocation,
    PermanentSendError,
    RateLimit,
    SendError,
    SendResult,
    outbound_attachment,
    recipient_external_id,
)
from integrations.providers.meta_graph import graph_request, media_url_allowed

MEDIA_TYPES = {
    Message.Type.IMAGE: "image",
    Message.Type.FILE: "document",
    Message.Type.AUDIO: "audio",
    Message.Type.VIDEO: "video",
}
CAPTIONED = {"image", "document", "video"}  # WhatsApp audio takes no caption
PHONE = re.compile(r"\+?[0-9]{6,15}")
# Default Cloud API throughput per phone number, inbound and outbound together
# (docs/channels.md §whatsapp.limits).
MESSAGES_PER_SECOND = 80


def address_for_phone(phone: str) -> str:
    """A customer's wa_id from a phone number an agent typed ("+52 1 55 1234-5678" →
    "5215512345678"), so a conversation can be started with them; "" when it is no number."""
    digits = re.sub(r"\D", "", phone)
    return digits if PHONE.fullmatch(digits) else ""


FILE_TYPES = {
    AttachmentKind.IMAGE: "image",
    AttachmentKind.VIDEO: "video",
    AttachmentKind.AUDIO: "audio",
    AttachmentKind.DOCUMENT: "document",
}


def send(*, integration, message) -> SendResult:
    credentials = integration.credentials
    recipient = recipient_external_id(message)
    attachment = outbound_attachment(message)
    content = _file_content(integration, message, attachment) if attachment else _content(message)
    body = _request_body(message, recipient, content)
    response = graph_request(
        "POST",
        f"{credentials['phone_number_id']}/messages",
        token=credentials["access_token"],
        sending=True,
        json=body,
    )
    return _send_result(response)


def _request_body(message: Message, recipient: str, content: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **_address(recipient),
    }
    reply_to = message.reply_to
    if reply_to is not None and reply_to.external_id:
        body["context"] = {"message_id": reply_to.external_id}
    return {**body, **content}


def _address(recipient: str) -> dict[str, str]:
    # Customers known only by their business-scoped user id (username adopters, no phone
    # number in the webhook) are addressed with ``recipient`` instead of ``to``.
    return {"to": recipient} if PHONE.fullmatch(recipient) else {"recipient": recipient}


# WhatsApp's limits: three reply buttons (20-character titles); a list holds up to ten rows
# (24-character titles) behind a button whose text has at most 20.
MAX_REPLY_BUTTONS = 3
MAX_LIST_ROWS = 10


def _choices(message: Message) -> dict[str, Any]:
    """Offered answers as reply buttons when they fit, else as a one-section list."""
    choices = (message.metadata or {}).get("quick_replies") or []
    body = {"text": message.content}
    if len(choices) <= MAX_REPLY_BUTTONS:
        buttons = [
            {"type": "reply", "reply": {"id": choice["id"], "title": choice["title"][:20]}}
            for choice in choices
        ]
        return {"type": "button", "body": body, "action": {"buttons": buttons}}
    rows = [{"id": choice["id"], "title": choice["title"][:24]} for choice in choices]
    button = str(message.metadata.get("quick_replies_button") or "Choose")[:20]
    action = {"button": button, "sections": [{"rows": rows[:MAX_LIST_ROWS]}]}
    return {"type": "list", "body": body, "action": action}


def _upload(integration, attachment) -> str:
    """Upload the agent's file to WhatsApp (``POST /{phone_number_id}/media``) and return its
    media id; nothing has been sent to the customer yet, so a failure here is safe to retry."""
    credentials = integration.credentials
    with attachment.file.open("rb") as content:
        uploaded = graph_request(
            "POST",
            f"{credentials['phone_number_id']}/media",
            token=credentials["access_token"],
            data={"messaging_product": "whatsapp", "type": attachment.mime_type},
            files={"file": (attachment.file_name or "file", content, attachment.mime_type)},
        )
    media_id = str(uploaded.get("id") or "")
    if not media_id:
        raise PermanentSendError("WhatsApp did not accept the file.", code="upload_failed")
    return media_id


def _file_content(integration, message: Message, attachment) -> dict[str, Any]:
    kind = FILE_TYPES[attachment.kind]
    media: dict[str, str] = {"id": _upload(integration, attachment)}
    if message.content:
        media["caption"] = message.content  # never on audio: refused before it was stored
    if kind == "document" and attachment.file_name:
        media["filename"] = attachment.file_name  # shown to the customer instead of "Untitled"
    return {"type": kind, kind: media}


def _template(message: Message) -> dict[str, Any]:
    """An approved template, as integrations/templates.py filled it in."""
    template = (message.metadata or {}).get("template") or {}
    body = {
        "name": template.get("name", ""),
        "language": {"code": template.get("language", "")},
        "components": template.get("components", []),
    }
    return {"type": "template", "template": body}


def _content(message: Message) -> dict[str, Any]:
    if message.type == Message.Type.TEMPLATE:
        return _template(message)
    if (message.metadata or {}).get("quick_replies") and not message.media_url:
        return {"type": "interactive", "interactive": _choices(message)}
    kind = MEDIA_TYPES.get(message.type)
    if kind is None or not message.media_url:
        return {"type": "text", "text": {"preview_url": False, "body": message.content}}
    media: dict[str, str] = {"link": message.media_url}
    if message.content:
        if kind not in CAPTIONED:
            raise PermanentSendError(
                "WhatsApp audio messages cannot carry text: send the text as its own message.",
                code="caption_unsupported",
            )
        media["caption"] = message.content
    if kind == "document" and (filename := _filename(message.media_url)):
        media["filename"] = filename  # shown to the customer instead of "Untitled"
    return {"type": kind, kind: media}


def _filename(url: str) -> str:
    return PurePosixPath(urlsplit(url).path).name


def _first(value: Any) -> dict[str, Any]:
    return value[0] if isinstance(value, list) and value and isinstance(value[0], dict) else {}


def _send_result(response: dict[str, Any]) -> SendResult:
    external_id = str(_first(response.get("messages")).get("id") or "")
    if not external_id:
        raise AmbiguousSendError(
            "WhatsApp answered without a message id; the message may have been sent, so it "
            "was not resent automatically.",
            code="no_message_id",
        )
    # Meta may rewrite the number (Mexico, Brazil): keep the wa_id it actually delivers to.
    contact = _first(response.get("contacts"))
    metadata = {name: str(contact[name]) for name in ("wa_id", "user_id") if contact.get(name)}
    return SendResult(external_id=external_id, metadata=metadata)


def connect(*, integration) -> ConnectResult:
    phone_number_id = integration.credentials["phone_number_id"]
    try:
        number = graph_request(
            "GET",
            phone_number_id,
            token=integration.credentials["access_token"],
            params={"fields": "display_phone_number,verified_name"},
        )
    except SendError as error:
        raise ConnectError(error.reason) from error
    display_phone_number = str(number.get("display_phone_number") or "")
    verified_name = str(number.get("verified_name") or "")
    return ConnectResult(
        external_account_id=phone_number_id,
        display_name=verified_name or display_phone_number,
        details={"display_phone_number": display_phone_number, "verified_name": verified_name},
    )


def locate_media(*, integration, attachment) -> MediaLocation:
    """Ask Graph for the file behind a media id (``GET /{media-id}``): a short-lived link,
    fetched with the access token, and the SHA-256 to check it against."""
    token = integration.credentials["access_token"]
    try:
        found = graph_request(
            "GET",
            attachment.source_id,
            token=token,
            params={"phone_number_id": integration.credentials["phone_number_id"]},
        )
    except SendError as error:
        retryable = not isinstance(error, PermanentSendError)
        raise MediaError(
            error.reason, code=error.code or "lookup_failed", retryable=retryable
        ) from error
    url = str(found.get("url") or "")
    if not media_url_allowed(url):
        raise MediaError("WhatsApp answered without a usable link.", code="url_refused")
    size = str(found.get("file_size") or "")
    return MediaLocation(
        url=url,
        headers={"Authorization": f"Bearer {token}"},
        size=int(size) if size.isdigit() else None,
        sha256=str(found.get("sha256") or attachment.source_sha256 or ""),
        mime_type=str(found.get("mime_type") or ""),
    )


TEMPLATE_FIELDS = "id,name,language,status,category,components,parameter_format,rejected_reason"
MAX_TEMPLATE_PAGES = 50


def fetch_templates(*, integration) -> list[dict[str, Any]]:
    """Every template of the business account (``GET /{waba-id}/message_templates``), page by
    page (docs/channels.md §whatsapp.templates)."""
    account = integration.credentials.get("business_account_id", "")
    if not account:
        raise PermanentSendError(
            "Add the WhatsApp Business Account ID to this channel to use templates.",
            code="no_business_account",
        )
    templates: list[dict[str, Any]] = []
    params: dict[str, Any] = {"fields": TEMPLATE_FIELDS, "limit": 100}
    for _page in range(MAX_TEMPLATE_PAGES):
        page = graph_request(
            "GET",
            f"{account}/message_templates",
            token=integration.credentials["access_token"],
            params=params,
        )
        templates.extend(item for item in page.get("data") or [] if isinstance(item, dict))
        paging = page.get("paging") if isinstance(page.get("paging"), dict) else {}
        after = (paging.get("cursors") or {}).get("after")
        if not paging.get("next") or not after:
            break
        params = {**params, "after": after}
    return templates


def disconnect(*, integration) -> None:
    # Webhook subscriptions belong to the app and the WhatsApp Business Account, shared by
    # every number on it: unsubscribing here would cut off the other numbers too.
    return None


def rate_limits(*, integration, message) -> list[RateLimit]:
    phone_number_id = integration.credentials["phone_number_id"]
    return [RateLimit(f"whatsapp:{phone_number_id}", MESSAGES_PER_SECOND, 1)]
