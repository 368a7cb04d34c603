"""Reads of outgoing webhooks, scoped to an admin's workspace (others' are "not found")."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from flame.exceptions import NotFoundError
from outgoing_webhooks.models import WebhookDelivery, WebhookEndpoint


def endpoint_list_for(*, actor: User) -> QuerySet[WebhookEndpoint]:
    if not actor.is_workspace_admin:
        return WebhookEndpoint.objects.none()
    return WebhookEndpoint.objects.filter(workspace_id=actor.member_workspace_id)


def endpoint_get_for(*, actor: User, endpoint_id) -> WebhookEndpoint:
    endpoint = endpoint_list_for(actor=actor).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFoundError("Not found.")
    return endpoint


def delivery_list_for(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return endpoint.deliveries.prefetch_related("tries").order_by("-created_at", "-id")


def delivery_get_for(*, endpoint: WebhookEndpoint, delivery_id) -> WebhookDelivery:
    delivery = endpoint.deliveries.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFoundError("Not found.")
    return delivery
