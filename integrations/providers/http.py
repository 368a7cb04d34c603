"""One place for outbound HTTP to platforms: timeouts and transport-error classification.

Connection failures before the request left (DNS, refused, connect timeout) are safe to retry.
A read timeout means the platform may already have accepted the message, so for sends it is
ambiguous and must not be repeated blindly.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import IO, Any

import requests
from django.conf import settings

from conversations.media import human_size
from integrations.providers.base import (
    AmbiguousSendError,
    MediaError,
    MediaLocation,
    RetryableSendError,
)

_session = requests.Session()


def timeouts() -> tuple[float, float]:
    return (settings.PROVIDER_CONNECT_TIMEOUT, settings.PROVIDER_READ_TIMEOUT)


def call(method: str, url: str, *, sending: bool = False, **kwargs: Any) -> requests.Response:
    """Perform one request; transport failures become the send errors of ``base``.

    ``sending`` marks requests that deliver a customer-visible message: only for those is a
    read timeout ambiguous (for lookups and webhook registration it is simply retryable).
    """
    try:
        return _session.request(method, url, timeout=timeouts(), **kwargs)
    except requests.ReadTimeout as exc:
        raise _read_timeout(sending) from exc
    except requests.ConnectionError as exc:  # includes ConnectTimeout: nothing was sent
        raise RetryableSendError(
            "The platform could not be reached.", code="connection_error"
        ) from exc


def _read_timeout(sending: bool) -> Exception:
    if sending:
        return AmbiguousSendError(
            "The platform did not answer in time; the message may or may not have been "
            "delivered, so it was not resent automatically.",
            code="timeout_unconfirmed",
        )
    return RetryableSendError("The platform did not answer in time.", code="timeout")


def json_or_empty(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


# --- downloading files ---------------------------------------------------------------------------

CHUNK_BYTES = 256 * 1024
# Files up to this size stay in memory while downloading; larger ones spill to a temp file.
SPOOL_BYTES = 2 * 1024 * 1024


@dataclass
class Downloaded:
    content: IO[bytes]
    size: int
    content_type: str


def too_big(max_bytes: int) -> MediaError:
    return MediaError(
        f"The file is larger than the {human_size(max_bytes)} we keep.", code="too_big"
    )


def _open(location: MediaLocation) -> tuple[requests.Response | None, MediaError | None]:
    """Start the download; a transport failure comes back (not raised) as a MediaError that
    carries neither the URL (Telegram's holds the bot token) nor the exception naming it."""
    try:
        response = _session.get(
            location.url, headers=location.headers, timeout=timeouts(), stream=True
        )
        return response, None
    except requests.RequestException:
        failure = MediaError(
            "The platform could not be reached.", code="connection_error", retryable=True
        )
        return None, failure


def _refused(response: requests.Response, location: MediaLocation) -> MediaError:
    status = response.status_code
    if status == 429 or status >= 500:
        return MediaError(f"The platform answered {status}.", code=str(status), retryable=True)
    if status in (401, 403, 404, 410) and not location.renewable:
        return MediaError(
            "The platform's link to this file has expired.", code="expired", retryable=False
        )
    # A renewable link was refused (it may have expired between asking and fetching): the next
    # attempt asks the platform for a fresh one.
    return MediaError(
        f"The platform refused the download ({status}).",
        code=str(status),
        retryable=location.renewable,
    )


def _read(response: requests.Response, max_bytes: int) -> tuple[IO[bytes], int]:
    content = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - returned
    size = 0
    broken = False
    try:
        for chunk in response.iter_content(CHUNK_BYTES):
            size += len(chunk)
            if size > max_bytes:
                break
            content.write(chunk)
    except requests.RequestException:
        broken = True  # raised below, outside this block: no chained error naming the URL
    if broken or size > max_bytes:
        content.close()
        if broken:
            raise MediaError("The download was cut off.", code="connection_error", retryable=True)
        raise too_big(max_bytes)
    content.seek(0)
    return content, size


def fetch_file(location: MediaLocation, *, max_bytes: int) -> Downloaded:
    """Download ``location`` with explicit timeouts, never holding more than ``max_bytes``."""
    if location.size is not None and location.size > max_bytes:
        raise too_big(max_bytes)
    response, failure = _open(location)
    if failure is not None:
        raise failure
    with response:
        if response.status_code >= 400:
            raise _refused(response, location)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise too_big(max_bytes)
        content, size = _read(response, max_bytes)
        return Downloaded(content, size, response.headers.get("Content-Type", ""))
