"""Outbound delivery: a stored ``queued`` message → the channel's send API → ``sent``."""

from __future__ import annotations

import logging

from conversations.models import Message
from conversations.services import message_update_status
from integrations.models import Platform
from integrations.providers import provider_client

logger = logging.getLogger(__name__)


def message_deliver(*, message_id: str) -> None:
    message = Message.objects.select_related("integration").filter(pk=message_id).first()
    if message is None or message.status != Message.Status.QUEUED:
        return  # deleted meanwhile, or a repeated task: already handed over
    integration = message.integration
    if integration is None or integration.platform == Platform.SANDBOX:
        # The sandbox has no external API: the simulator reads replies from the thread.
        message_update_status(message=message, status=Message.Status.SENT)
        return
    client = provider_client(integration.platform)
    if client is None:
        message_update_status(
            message=message,
            status=Message.Status.FAILED,
            error_code="channel_unavailable",
            error_message=f"Sending on {integration.get_platform_display()} is not available.",
        )
        return
    client.deliver(message=message, integration=integration)
