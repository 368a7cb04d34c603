"""One place for outbound HTTP to platforms: timeouts and transport-error classification.

Connection failures before the request left (DNS, refused, connect timeout) are safe to retry.
A read timeout means the platform may already have accepted the message, so for sends it is
ambiguous and must not be repeated blindly.
"""

from __future__ import annotations

from typing import Any

import requests
from django.conf import settings

from integrations.providers.base import AmbiguousSendError, RetryableSendError

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
