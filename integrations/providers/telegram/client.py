"""Telegram Bot API calls: send (text, or a file uploaded in the request), fetch customers'
files (getFile), connect (getMe + setWebhook), disconnect, callback answers, the command menu.

Every method is ``POST {TELEGRAM_API_BASE_URL}/bot<token>/<method>`` answering
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code", "description", "parameters"}``
(docs/channels.md §telegram.send). The token is part of every URL, so neither a URL nor an
exception that carries one leaves this module.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import requests
from django.conf import settings

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
    RecipientMovedError,
    RetryableSendError,
    SendError,
    SendResult,
    outbound_attachment,
    recipient_external_id,
)
from integrations.providers.http import call, json_or_empty

# Updates the bot asks for; message_reaction is only delivered when listed (docs/channels.md
# §telegram.updates).
ALLOWED_UPDATES = [
    "message",
    "edited_message",
    "callback_query",
    "message_reaction",
    "my_chat_member",
]

# Outbound message type → (Bot API method, field holding the media URL).
MEDIA_METHODS: dict[str, tuple[str, str]] = {
    Message.Type.IMAGE: ("sendPhoto", "photo"),
    Message.Type.FILE: ("sendDocument", "document"),
    Message.Type.AUDIO: ("sendAudio", "audio"),
    Message.Type.VIDEO: ("sendVideo", "video"),
}

# (HTTP status, words in the description) → (readable reason, error code). Telegram warns that
# descriptions and codes may change, so anything unmatched keeps the platform's own words.
KNOWN_REFUSALS: tuple[tuple[int, str, str, str], ...] = (
    (401, "", "The bot token is invalid.", "invalid_token"),
    # A token that is not even shaped like one gets 404 Not Found for the whole URL.
    (404, "", "The bot token is invalid.", "invalid_token"),
    (403, "blocked", "The customer blocked the bot.", "bot_blocked"),
    (403, "deactivated", "The customer's Telegram account was deleted.", "user_deactivated"),
    (403, "initiate", "The customer has not started a chat with the bot.", "not_started"),
    (
        400,
        "chat not found",
        "The chat was not found: the customer never started the bot.",
        "chat_not_found",
    ),
)


# --- transport and errors ------------------------------------------------------------------------


def _url(integration, method: str) -> str:
    token = integration.credentials.get("bot_token", "")
    return f"{settings.TELEGRAM_API_BASE_URL}/bot{token}/{method}"


def _transport(
    url: str, sending: bool, **request: Any
) -> tuple[requests.Response | None, SendError | None]:
    """One request; a transport failure comes back as a copy of ``http.call``'s error.

    requests names the URL — token included — in its connection errors, and ``http.call``
    chains those as the cause. The copy has no cause, context or traceback, so no log line or
    error tracker that renders the chain can ever print the token. It is returned rather than
    raised here because raising inside ``except`` would chain the original back as context.
    """
    try:
        return call("POST", url, sending=sending, **request), None
    except SendError as error:
        return None, copy.copy(error)
    except requests.RequestException:  # not classified by http.call, and may name the URL too
        return None, _unclassified_failure(sending)


def _unclassified_failure(sending: bool) -> SendError:
    if sending:  # e.g. the connection broke mid-answer: the message may have gone out
        return AmbiguousSendError(
            "Telegram's answer was cut off or unreadable; the message may or may not have been "
            "delivered, so it was not resent automatically.",
            code="transport_error",
        )
    return RetryableSendError(
        "Telegram's answer was cut off or unreadable.", code="transport_error"
    )


def _retry_after(parameters: dict, response: requests.Response) -> float | None:
    value = parameters.get("retry_after", response.headers.get("Retry-After"))
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _refusal(status: int, description: str, parameters: dict) -> PermanentSendError:
    if parameters.get("migrate_to_chat_id"):
        new_chat = str(parameters["migrate_to_chat_id"])
        return RecipientMovedError(
            f"The group became a supergroup with chat id {new_chat}.",
            new_address=new_chat,
            code="chat_migrated",
        )
    lowered = description.lower()
    for known_status, words, reason, code in KNOWN_REFUSALS:
        if status == known_status and words in lowered:
            # Remembered on the customer: later sends fail at once, without calling Telegram.
            return PermanentSendError(reason, code=code, recipient_blocked=code == "bot_blocked")
    return PermanentSendError(f"Telegram refused the request: {description}", code=str(status))


def classify(response: requests.Response, body: dict) -> SendError:
    """Turn a failed Bot API answer into a retryable or permanent error."""
    status = (
        response.status_code if response.status_code >= 400 else int(body.get("error_code") or 0)
    )
    description = str(body.get("description") or f"HTTP {response.status_code}")
    parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
    if status == 429 or "retry_after" in parameters:
        return RetryableSendError(
            "Telegram is rate limiting the bot.",
            code="429",
            retry_after=_retry_after(parameters, response),
        )
    if status >= 500:
        return RetryableSendError(f"Telegram is unavailable: {description}", code=str(status))
    return _refusal(status, description, parameters)


def _post(
    integration, method: str, payload: dict, *, sending: bool = False, files: Any = None
) -> Any:
    """One Bot API call: JSON, or a multipart form when a file travels with it."""
    request = {"data": payload, "files": files} if files else {"json": payload}
    response, failure = _transport(_url(integration, method), sending, **request)
    if failure is not None:
        raise failure
    body = json_or_empty(response)
    if response.status_code < 400 and body.get("ok") is True:
        return body.get("result")
    if response.status_code < 400 and "error_code" not in body:
        raise _unclassified_failure(sending)  # a 2xx we cannot read (a proxy?): as unsure
    raise classify(response, body)


# --- sending -------------------------------------------------------------------------------------


def _chat_reference(chat_id: str) -> int | str:
    # Ids go out as JSON integers (int64); "@channelname" style ids stay strings.
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


def _reply_parameters(message, chat_id: str) -> dict | None:
    if message.reply_to_id is None or not message.reply_to.external_id:
        return None
    chat, _, message_id = message.reply_to.external_id.rpartition(":")
    if chat != chat_id or not message_id.isdigit():
        return None  # not a message of this chat (e.g. a button press): send it plainly
    # Still deliver the answer when the customer deleted the message it replies to.
    return {"message_id": int(message_id), "allow_sending_without_reply": True}


def _request_for(message, chat_id: str) -> tuple[str, dict]:
    payload: dict[str, Any] = {"chat_id": _chat_reference(chat_id)}
    media = MEDIA_METHODS.get(message.type) if message.media_url else None
    if media is None:
        method, payload["text"] = "sendMessage", message.content
    else:
        method, field = media
        payload[field] = message.media_url
        if message.content:
            payload["caption"] = message.content
    reply = _reply_parameters(message, chat_id)
    if reply:
        payload["reply_parameters"] = reply
    choices = (message.metadata or {}).get("quick_replies")
    if choices:
        # One row of inline buttons; a press comes back as a callback_query with this data.
        row = [{"text": choice["title"], "callback_data": choice["id"]} for choice in choices]
        payload["reply_markup"] = {"inline_keyboard": [row]}
    return method, payload


# An agent's file → (method, field). Voice notes (OGG/Opus) play as voice messages.
FILE_METHODS: dict[str, tuple[str, str]] = {
    AttachmentKind.IMAGE: ("sendPhoto", "photo"),
    AttachmentKind.VIDEO: ("sendVideo", "video"),
    AttachmentKind.AUDIO: ("sendAudio", "audio"),
    AttachmentKind.DOCUMENT: ("sendDocument", "document"),
}
VOICE = ("sendVoice", "voice")


def _file_method(attachment) -> tuple[str, str]:
    if attachment.kind == AttachmentKind.AUDIO and attachment.mime_type == "audio/ogg":
        return VOICE
    return FILE_METHODS[attachment.kind]


def _as_form(payload: dict) -> dict[str, str]:
    """Multipart fields are strings: nested objects go as JSON (reply_parameters, markup)."""
    return {
        name: json.dumps(value) if isinstance(value, dict | list) else str(value)
        for name, value in payload.items()
    }


def _send_file(integration, message, attachment, chat_id: str) -> Any:
    """sendPhoto / sendVideo / sendAudio / sendVoice / sendDocument with the file in the request
    (docs/channels.md §telegram.files)."""
    method, field = _file_method(attachment)
    _text_method, payload = _request_for(message, chat_id)
    payload.pop("text", None)
    if message.content:
        payload["caption"] = message.content
    with attachment.file.open("rb") as content:
        upload = {field: (attachment.file_name or field, content, attachment.mime_type)}
        return _post(integration, method, _as_form(payload), sending=True, files=upload)


def send(*, integration, message) -> SendResult:
    chat_id = recipient_external_id(message)
    attachment = outbound_attachment(message)
    if attachment is not None:
        result = _send_file(integration, message, attachment, chat_id)
    else:
        method, payload = _request_for(message, chat_id)
        result = _post(integration, method, payload, sending=True)
    if not isinstance(result, dict) or result.get("message_id") is None:
        raise AmbiguousSendError(
            "Telegram accepted the message but did not say which it was.", code="no_message_id"
        )
    chat = result.get("chat") if isinstance(result.get("chat"), dict) else {}
    return SendResult(external_id=f"{chat.get('id', chat_id)}:{result['message_id']}")


def rate_limits(*, integration, message) -> list[RateLimit]:
    bot = RateLimit(f"telegram:bot:{integration.external_account_id or integration.pk}", 30, 1)
    try:
        chat_id = recipient_external_id(message)
    except PermanentSendError:
        return [bot]  # send() reports the missing recipient
    # The chat first: when it is full, no slot of the shared bot bucket is spent.
    limits = [RateLimit(f"telegram:chat:{chat_id}", 1, 1), bot]
    if chat_id.startswith("-"):
        limits.append(RateLimit(f"telegram:chat:{chat_id}", 20, 60))  # groups: 20 a minute
    return limits


def answer_callback(*, integration, callback_id: str) -> None:
    _post(integration, "answerCallbackQuery", {"callback_query_id": callback_id})


def register_commands(*, integration, commands: list[dict[str, str]]) -> None:
    """The bot's command menu (``setMyCommands``); an empty list removes it."""
    _post(integration, "setMyCommands", {"commands": commands})


def _file_url(integration, file_path: str) -> str:
    token = integration.credentials.get("bot_token", "")
    return f"{settings.TELEGRAM_API_BASE_URL}/file/bot{token}/{file_path}"


def locate_media(*, integration, attachment) -> MediaLocation:
    """``getFile`` for the file's path, then its download link (which holds the bot token and
    so never leaves this module but inside the location; docs/channels.md §telegram.media)."""
    found, failure = _get_file(integration, attachment.source_id)
    if failure is not None:
        raise failure
    path = str(found.get("file_path") or "")
    if not path:
        raise MediaError("Telegram did not say where the file is.", code="no_file_path")
    size = found.get("file_size")
    return MediaLocation(
        url=_file_url(integration, path),
        size=size if isinstance(size, int) else None,
        file_name=path.rpartition("/")[2],
    )


def _get_file(integration, file_id: str) -> tuple[dict, MediaError | None]:
    try:
        found = _post(integration, "getFile", {"file_id": file_id})
    except SendError as error:
        # Bot API downloads stop at 20 MB: Telegram answers "file is too big".
        if "too big" in error.reason.lower():
            reason = "Telegram lets bots download files of up to 20 MB; this one is larger."
            return {}, MediaError(reason, code="too_big")
        retryable = isinstance(error, RetryableSendError)
        return {}, MediaError(error.reason, code=error.code or "lookup_failed", retryable=retryable)
    return (found if isinstance(found, dict) else {}), None


# --- connecting ----------------------------------------------------------------------------------


def _for_connect(integration, method: str, payload: dict) -> Any:
    try:
        return _post(integration, method, payload)
    except PermanentSendError as error:
        raise ConnectError(error.reason) from error


def connect(*, integration) -> ConnectResult:
    secret = integration.credentials.get("secret_token", "")
    if not secret:
        raise ConnectError("The webhook secret token is missing: save the credentials again.")
    me = _for_connect(integration, "getMe", {})
    me = me if isinstance(me, dict) else {}
    webhook = {
        "url": integration.webhook_url,
        "secret_token": secret,
        "allowed_updates": ALLOWED_UPDATES,
        "drop_pending_updates": False,
    }
    _for_connect(integration, "setWebhook", webhook)
    username = str(me.get("username") or "")
    return ConnectResult(
        external_account_id=str(me.get("id") or integration.external_account_id),
        display_name=f"@{username}" if username else str(me.get("first_name") or ""),
        details={"username": username, "first_name": str(me.get("first_name") or "")},
    )


def disconnect(*, integration) -> None:
    _post(integration, "deleteWebhook", {"drop_pending_updates": False})
