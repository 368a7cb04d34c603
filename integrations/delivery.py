"""Outbound delivery: a stored ``queued`` message → the channel's send API → ``sent``.

Failures are sorted the way the platforms mean them:
- retryable (429 with ``retry_after``, 5xx, connection refused): sent again later, with
  exponential backoff and jitter, at most DELIVERY_MAX_ATTEMPTS times;
- permanent (bad token, reply window closed, blocked, chat not found): ``failed`` with a reason
  an agent can read;
- ambiguous (timeout after the request left): ``failed`` as unconfirmed, never resent blindly —
  the agent decides, with the retry button.
Per-channel send rates are reserved in the shared cache first; a send that does not fit waits
for the next window without spending an attempt.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from conversations.models import Message
from conversations.services import message_mark_sent, message_update_status
from integrations import throttle
from integrations.providers import base, provider_client

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_in: float | None = None
    next_attempt: int = 0


def delivery_schedule(*, message: Message) -> None:
    """``conversations.hooks.outbound_message_queued``: deliver once the message is committed
    (a task that ran earlier would not find it)."""
    from integrations.tasks import deliver_message_task

    transaction.on_commit(lambda: deliver_message_task.delay(str(message.pk)), robust=True)


def _backoff(attempt: int) -> float:
    return min(600.0, 2.0 ** (attempt + 1)) * random.uniform(0.5, 1.5)  # noqa: S311 - jitter


def _fail(message: Message, *, code: str, reason: str) -> Outcome:
    message_update_status(
        message=message, status=Message.Status.FAILED, error_code=code, error_message=reason
    )
    return Outcome(status=Message.Status.FAILED)


def _retry_or_fail(message: Message, error: base.RetryableSendError, attempt: int) -> Outcome:
    if attempt + 1 >= settings.DELIVERY_MAX_ATTEMPTS:
        return _fail(message, code=error.code or "retries_exhausted", reason=error.reason)
    wait = error.retry_after if error.retry_after is not None else _backoff(attempt)
    logger.info(
        "Delivery of %s postponed %.1fs",
        message.pk,
        wait,
        extra={"attempt": attempt, "error_code": error.code},
    )
    return Outcome(status="retrying", retry_in=wait, next_attempt=attempt + 1)


def _send(message: Message, client, attempt: int) -> Outcome:
    integration = message.integration
    try:
        result = client.send(integration=integration, message=message)
    except base.RetryableSendError as error:
        return _retry_or_fail(message, error, attempt)
    except base.PermanentSendError as error:
        return _fail(message, code=error.code or "rejected", reason=error.reason)
    except base.AmbiguousSendError as error:
        return _fail(message, code=error.code or "unconfirmed", reason=error.reason)
    message_mark_sent(message=message, external_id=result.external_id, metadata=result.metadata)
    return Outcome(status=Message.Status.SENT)


def message_deliver(*, message_id: str, attempt: int = 0) -> Outcome:
    message = (
        Message.objects.select_related("integration", "conversation", "conversation__contact")
        .filter(pk=message_id)
        .first()
    )
    if message is None or message.status != Message.Status.QUEUED:
        return Outcome(status="skipped")  # deleted meanwhile, or a repeated task: handed over
    # Only messages of conversations with a channel are queued (message_store_outbound).
    integration = message.integration
    client = provider_client(integration.platform)
    if client is None:
        return _fail(
            message,
            code="channel_unavailable",
            reason=f"Sending on {integration.get_platform_display()} is not available.",
        )
    try:
        wait = throttle.reserve(client.rate_limits(integration=integration, message=message))
    except base.PermanentSendError as error:  # e.g. no address for this contact on the channel
        return _fail(message, code=error.code or "rejected", reason=error.reason)
    if wait:
        return Outcome(status="throttled", retry_in=wait, next_attempt=attempt)
    return _send(message, client, attempt)
