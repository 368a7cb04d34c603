from __future__ import annotations

import statistics

from django.db.models import Count, Max, Q, QuerySet

from accounts.models import User
from conversations.models import Message
from flame.exceptions import NotFoundError
from integrations.models import Integration, MessageTemplate, WebhookEvent
from integrations.providers import PROVIDERS


def integration_list_for(*, user: User) -> QuerySet[Integration]:
    if user.workspace_id is None:
        return Integration.objects.none()
    return Integration.objects.filter(workspace_id=user.workspace_id)


def integration_get_for(*, user: User, integration_id) -> Integration:
    integration = integration_list_for(user=user).filter(pk=integration_id).first()
    if integration is None:
        raise NotFoundError("Integration not found.")
    return integration


def plan_channel_count(*, workspace_id) -> int:
    """The channels that count against the plan (accounts.plans): all but the simulator,
    which reaches no customer."""
    simulated = [code for code, spec in PROVIDERS.items() if spec.simulated]
    channels = Integration.objects.filter(workspace_id=workspace_id)
    return channels.exclude(platform__in=simulated).count()


def message_templates_for(*, integration: Integration) -> QuerySet[MessageTemplate]:
    """The templates of a channel the caller already resolved in their workspace."""
    return MessageTemplate.objects.filter(integration=integration).order_by("name", "language")


def integration_status_counts(*, integration: Integration) -> dict[str, int]:
    """What went through one channel: conversations, messages each way, webhooks received."""
    messages = Message.objects.filter(integration=integration).aggregate(
        messages_in=Count("id", filter=Q(sender=Message.Sender.USER)),
        messages_out=Count("id", filter=~Q(sender=Message.Sender.USER)),
        failed_out=Count("id", filter=Q(status=Message.Status.FAILED)),
    )
    events = integration.webhook_events.aggregate(
        webhooks_received=Count("id"),
        webhooks_failed=Count("id", filter=Q(status=WebhookEvent.Status.FAILED)),
    )
    return {"conversations": integration.conversations.count(), **messages, **events}


def webhook_events_for(*, user: User) -> QuerySet[WebhookEvent]:
    if user.workspace_id is None:
        return WebhookEvent.objects.none()
    return WebhookEvent.objects.filter(workspace_id=user.workspace_id)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _processing_delays_ms(events: QuerySet[WebhookEvent], platform: str) -> list[float]:
    # The last 500 processed events are a fair, bounded sample of the current delay.
    recent = (
        events.filter(platform=platform, processed_at__isnull=False)
        .order_by("-id")
        .values_list("received_at", "processed_at")[:500]
    )
    return [
        (done - received).total_seconds() * 1000 for received, done in recent if done is not None
    ]


def webhook_stats_for(*, user: User) -> list[dict]:
    events = webhook_events_for(user=user)
    statuses = WebhookEvent.Status
    rows = (
        events.values("platform")
        .annotate(
            received=Count("id"),
            processed=Count("id", filter=Q(status=statuses.PROCESSED)),
            ignored=Count("id", filter=Q(status=statuses.IGNORED)),
            failed=Count("id", filter=Q(status=statuses.FAILED)),
            pending=Count("id", filter=Q(status__in=(statuses.RECEIVED, statuses.PROCESSING))),
            last_received_at=Max("received_at"),
        )
        .order_by("platform")
    )
    return [
        {**row, "median_processing_ms": _median(_processing_delays_ms(events, row["platform"]))}
        for row in rows
    ]
