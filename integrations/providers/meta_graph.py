"""Graph API calls shared by WhatsApp, Messenger and Instagram: URLs and error classification.

Graph errors come back as ``{"error": {"message", "type", "code", "error_subcode",
"error_user_msg", "is_transient", "fbtrace_id"}}``, usually with HTTP 400 even for throttling,
so decisions branch on ``code`` (docs/channels.md §meta.errors).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings

from integrations.providers.base import PermanentSendError, RetryableSendError, SendError
from integrations.providers.http import call, json_or_empty

# Throttling and transient platform trouble: retry with backoff.
RETRYABLE_CODES = {1, 2, 4, 17, 32, 341, 613, 80007, 130429, 131000, 131016, 131056}
THROTTLE_CODES = {4, 17, 32, 613, 80007, 130429, 131056}

READABLE_REASONS = {
    190: "The access token is invalid or expired. Reconnect the channel.",
    10: "The app lacks permission, or the 24-hour reply window has closed.",
    200: "The app lacks permission to message this person.",
    131047: "More than 24 hours since the customer last wrote: only a template can be sent.",
    131026: "The message could not be delivered (the number may not be on WhatsApp).",
    131051: "This message type is not supported.",
    368: "The account is temporarily blocked for policy violations.",
    551: "This person isn't available right now.",
}
READABLE_SUBCODES = {
    2018278: "More than 24 hours since the customer last wrote: the reply window has closed.",
    2534022: "More than 24 hours since the customer last wrote: the reply window has closed.",
    1545041: "This person isn't available right now.",
}


def graph_url(path: str) -> str:
    return f"{settings.GRAPH_API_BASE_URL}/{settings.GRAPH_API_VERSION}/{path.lstrip('/')}"


def _error_of(response: requests.Response) -> dict[str, Any]:
    error = json_or_empty(response).get("error")
    return error if isinstance(error, dict) else {}


def _reason(error: dict[str, Any], status: int) -> str:
    subcode = error.get("error_subcode")
    if subcode in READABLE_SUBCODES:
        return READABLE_SUBCODES[subcode]
    if error.get("code") in READABLE_REASONS:
        return READABLE_REASONS[error["code"]]
    return str(error.get("error_user_msg") or error.get("message") or f"HTTP {status}")


def classify(response: requests.Response) -> SendError:
    """Turn a failed Graph response into a retryable or permanent error."""
    error = _error_of(response)
    code = error.get("code")
    reason = _reason(error, response.status_code)
    label = str(code or response.status_code)
    transient = (
        response.status_code >= 500
        or response.status_code == 429
        or code in RETRYABLE_CODES
        or error.get("is_transient") is True
    )
    if transient:
        retry_after = response.headers.get("Retry-After")
        return RetryableSendError(
            reason,
            code=label,
            retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
        )
    return PermanentSendError(reason, code=label)


def graph_request(
    method: str, path: str, *, token: str, sending: bool = False, **kwargs: Any
) -> dict[str, Any]:
    response = call(
        method,
        graph_url(path),
        sending=sending,
        headers={"Authorization": f"Bearer {token}"},
        **kwargs,
    )
    if response.status_code >= 400:
        raise classify(response)
    return json_or_empty(response)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def _host_listed(host: str) -> bool:
    return any(
        host == allowed.lstrip(".") or (allowed.startswith(".") and host.endswith(allowed))
        for allowed in settings.META_MEDIA_HOSTS
    )


def media_url_allowed(url: str) -> bool:
    """Whether we may fetch ``url`` for a customer's file: https on one of Meta's media hosts
    (META_MEDIA_HOSTS), or the Graph API's own origin (where a stand-in serves tests and
    staging). Bodies are untrusted: anything else would let a webhook make us fetch arbitrary
    hosts (docs/channels.md §whatsapp.media)."""
    try:
        scheme, host, port = _origin(url)
    except ValueError:
        return False
    if not host or len(url) > 2000:
        return False
    if (scheme, host, port) == _origin(settings.GRAPH_API_BASE_URL):
        return True
    return scheme == "https" and port in (None, 443) and _host_listed(host)
