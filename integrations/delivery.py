"""Outbound delivery: a stored ``queued`` message → the channel's send API → ``sent``.

Failures are sorted the way the platforms mean them:
- retryable (429 with ``retry_after``, 5xx, connection refused): sent again later, with
  exponential backoff and jitter, at most DELIVERY_MAX_ATTEMPTS times;
- permanent (bad token, reply window closed, blocked, chat not found): ``failed`` with a reason
  an agent can read;
- ambiguous (timeout after the request left): ``failed`` as unconfirmed, never resent blindly —
  the agent decides, with the retry button.
Per-channel send rates are reserved in the shared cache first; a send that does not fit waits
for the next window without spending an attempt. Before that, a send sure to fail is failed
without calling the platform: free text once the messaging window has closed
(conversations.window), or a customer who blocked us (until they unblock). A customer whose
address moved (a Telegram group became a supergroup) gets the message again, once, at the new
address.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from conversations.models import Message
from conversations.services import (
    contact_identity_flag,
    contact_identity_moved,
    message_mark_sent,
    message_update_status,
)
from conversations.window import WINDOW_CLOSED, messaging_window
from flame import metrics
from integrations import throttle
from integrations.providers import base, provider_client

logger = logging.getLogger(__name__)

WINDOW_CLOSED_REASON = "The messaging window closed before this message could be sent"
BLOCKED_REASON = "The customer blocked this channel: nothing reaches them until they unblock it."


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


def backoff(attempt: int) -> float:
    """Seconds before attempt ``attempt + 1``: exponential, capped at 10 minutes, jittered."""
    return min(600.0, 2.0 ** (attempt + 1)) * random.uniform(0.5, 1.5)  # noqa: S311 - jitter


def _fail(message: Message, *, code: str, reason: str) -> Outcome:
    message_update_status(
        message=message, status=Message.Status.FAILED, error_code=code, error_message=reason
    )
    metrics.DELIVERY_FAILURES.labels(platform=message.integration.platform).inc()
    return Outcome(status=Message.Status.FAILED)


def _retry_or_fail(message: Message, error: base.RetryableSendError, attempt: int) -> Outcome:
    if attempt + 1 >= settings.DELIVERY_MAX_ATTEMPTS:
        return _fail(message, code=error.code or "retries_exhausted", reason=error.reason)
    wait = error.retry_after if error.retry_after is not None else backoff(attempt)
    logger.info(
        "Delivery of %s postponed %.1fs",
        message.pk,
        wait,
        extra={"attempt": attempt, "error_code": error.code},
    )
    return Outcome(status="retrying", retry_in=wait, next_attempt=attempt + 1)


def _send(message: Message, client, attempt: int, *, moved: bool = False) -> Outcome:
    integration = message.integration
    try:
        result = client.send(integration=integration, message=message)
    except base.RetryableSendError as error:
        return _retry_or_fail(message, error, attempt)
    except base.RecipientMovedError as error:
        if moved:  # moved twice in one delivery: stop here
            return _fail(message, code=error.code, reason=error.reason)
        return _send_to_new_address(message, client, attempt, error.new_address)
    except base.PermanentSendError as error:
        if error.recipient_blocked:
            _remember_blocked(message)
        return _fail(message, code=error.code or "rejected", reason=error.reason)
    except base.AmbiguousSendError as error:
        return _fail(message, code=error.code or "unconfirmed", reason=error.reason)
    message_mark_sent(message=message, external_id=result.external_id, metadata=result.metadata)
    return Outcome(status=Message.Status.SENT)


def _send_to_new_address(message: Message, client, attempt: int, new_address: str) -> Outcome:
    """The customer's address changed (a Telegram group became a supergroup): remember the
    new one for every later message, and send this one again, once."""
    identity = base.recipient_identity(message)
    contact_identity_moved(
        integration=message.integration,
        external_id=identity.external_id,
        new_external_id=new_address,
    )
    identity.external_id = new_address
    return _send(message, client, attempt, moved=True)


def _remember_blocked(message: Message) -> None:
    identity = base.recipient_identity(message)
    contact_identity_flag(
        integration=message.integration, external_id=identity.external_id, blocked=True
    )


def _refusal_before_sending(message: Message) -> tuple[str, str] | None:
    """What makes this send sure to fail, found without calling the platform: the messaging
    window has closed (templates excepted), or the customer blocked us."""
    if message.type != Message.Type.TEMPLATE:
        window = messaging_window(message.conversation, sender=message.sender)
        if not window.open:
            remedy = (
                "only an approved template can be sent until the customer writes again"
                if window.templates
                else "the customer has to write again first"
            )
            return WINDOW_CLOSED, f"{WINDOW_CLOSED_REASON}: {remedy}."
    if _customer_blocked(message):
        return "recipient_blocked", BLOCKED_REASON
    return None


def _customer_blocked(message: Message) -> bool:
    try:
        identity = base.recipient_identity(message)
    except base.PermanentSendError:
        return False  # no address here: the provider's send says so (or needs none: sandbox)
    return identity.metadata.get("blocked") is True


def message_deliver(*, message_id: str, attempt: int = 0) -> Outcome:
    message = (
        Message.objects.select_related("integration", "conversation", "conversation__contact")
        .prefetch_related("attachments")
        .filter(pk=message_id)
        .first()
    )
    # A private note is never delivered, whatever its status says.
    if message is None or message.private or message.status != Message.Status.QUEUED:
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
        refusal = _refusal_before_sending(message)
        if refusal is not None:
            return _fail(message, code=refusal[0], reason=refusal[1])
        wait = throttle.reserve(client.rate_limits(integration=integration, message=message))
    except base.PermanentSendError as error:  # e.g. no address for this contact on the channel
        return _fail(message, code=error.code or "rejected", reason=error.reason)
    if wait:
        return Outcome(status="throttled", retry_in=wait, next_attempt=attempt)
    return _send(message, client, attempt)
