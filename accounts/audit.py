"""The audit log: who did what and when (``AuditEntry``), written by the services that act.

A service calls ``record`` in its own transaction, so an entry exists exactly when the change
does. Who acted is the service's ``by`` (None: the system — an assistant, auto-assignment, a
scheduled task); services that take no ``by`` pass ``request_user()``. Whether that person
acted through an API key, and from which address, comes from the request being served
(``AuditContextMiddleware``, and ``ApiKeyAuthentication`` binding its key), so no service
signature has to carry them. Every app may write here: accounts is the bottom layer.

``data`` goes through the log redaction (``flame.logging.redact``) as a second guard: callers
put field names and settings' values in it, never a credential's value.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKey, AuditEntry, User
from flame.logging import redact
from flame.ratelimits import client_ip

SIGN_IN = "auth.sign_in"
SIGN_IN_FAILED = "auth.sign_in_failed"
MEMBER_INVITED = "member.invited"
MEMBER_ROLE_CHANGED = "member.role_changed"
MEMBER_DEACTIVATED = "member.deactivated"
MEMBER_REACTIVATED = "member.reactivated"
WORKSPACE_UPDATED = "workspace.updated"
ASSISTANT_CREATED = "assistant.created"
ASSISTANT_UPDATED = "assistant.updated"
ASSISTANT_DELETED = "assistant.deleted"
ASSISTANT_SCHEDULE_CHANGED = "assistant.schedule_changed"
CHANNEL_CREATED = "channel.created"
CHANNEL_UPDATED = "channel.updated"
CHANNEL_CREDENTIALS_CHANGED = "channel.credentials_changed"
CHANNEL_CONNECTED = "channel.connected"
CHANNEL_DISCONNECTED = "channel.disconnected"
CHANNEL_DELETED = "channel.deleted"
CONVERSATION_ASSIGNED = "conversation.assigned"
CONVERSATION_UNASSIGNED = "conversation.unassigned"
CONVERSATION_STATUS_CHANGED = "conversation.status_changed"
EXPORT_DOWNLOADED = "export.downloaded"
API_KEY_CREATED = "api_key.created"
API_KEY_REVOKED = "api_key.revoked"
API_KEY_USED = "api_key.used"
AI_AUTO_REPLY_SENT = "ai.auto_reply_sent"
AI_SUGGESTION_APPLIED = "ai.suggestion_applied"
WEBHOOK_CREATED = "webhook.created"
WEBHOOK_UPDATED = "webhook.updated"
WEBHOOK_DELETED = "webhook.deleted"
WEBHOOK_DISABLED = "webhook.disabled"
WEBHOOK_REDELIVERED = "webhook.redelivered"
HOLIDAY_CREATED = "holiday.created"
HOLIDAY_UPDATED = "holiday.updated"
HOLIDAY_DELETED = "holiday.deleted"
HOLIDAYS_IMPORTED = "holiday.imported"
HOLIDAY_FEED_CREATED = "holiday_feed.created"
HOLIDAY_FEED_UPDATED = "holiday_feed.updated"
HOLIDAY_FEED_DELETED = "holiday_feed.deleted"
HOLIDAY_FEED_REFRESHED = "holiday_feed.refreshed"
CONTACT_MERGED = "contact.merged"
CONTACT_MERGE_UNDONE = "contact.merge_undone"

# Every action, with the words the page shows for it.
ACTIONS: dict[str, Any] = {
    SIGN_IN: _("Signed in"),
    SIGN_IN_FAILED: _("Failed sign-in"),
    MEMBER_INVITED: _("Invited a member"),
    MEMBER_ROLE_CHANGED: _("Changed a member's role"),
    MEMBER_DEACTIVATED: _("Deactivated a member"),
    MEMBER_REACTIVATED: _("Reactivated a member"),
    WORKSPACE_UPDATED: _("Changed workspace settings"),
    ASSISTANT_CREATED: _("Created an assistant"),
    ASSISTANT_UPDATED: _("Changed an assistant"),
    ASSISTANT_DELETED: _("Deleted an assistant"),
    ASSISTANT_SCHEDULE_CHANGED: _("Changed an assistant's schedule"),
    CHANNEL_CREATED: _("Added a channel"),
    CHANNEL_UPDATED: _("Changed a channel"),
    CHANNEL_CREDENTIALS_CHANGED: _("Changed a channel's credentials"),
    CHANNEL_CONNECTED: _("Connected a channel"),
    CHANNEL_DISCONNECTED: _("Disconnected a channel"),
    CHANNEL_DELETED: _("Deleted a channel"),
    CONVERSATION_ASSIGNED: _("Assigned a conversation"),
    CONVERSATION_UNASSIGNED: _("Unassigned a conversation"),
    CONVERSATION_STATUS_CHANGED: _("Changed a conversation's status"),
    EXPORT_DOWNLOADED: _("Exported conversations"),
    API_KEY_CREATED: _("Created an API key"),
    API_KEY_REVOKED: _("Revoked an API key"),
    API_KEY_USED: _("Used an API key"),
    AI_AUTO_REPLY_SENT: _("An assistant replied automatically"),
    AI_SUGGESTION_APPLIED: _("Applied an AI suggestion"),
    WEBHOOK_CREATED: _("Added a webhook"),
    WEBHOOK_UPDATED: _("Changed a webhook"),
    WEBHOOK_DELETED: _("Deleted a webhook"),
    WEBHOOK_DISABLED: _("A failing webhook was turned off"),
    WEBHOOK_REDELIVERED: _("Redelivered a webhook event"),
    HOLIDAY_CREATED: _("Added a holiday or special hours"),
    HOLIDAY_UPDATED: _("Changed a holiday or special hours"),
    HOLIDAY_DELETED: _("Removed a holiday or special hours"),
    HOLIDAYS_IMPORTED: _("Imported holidays from a file"),
    HOLIDAY_FEED_CREATED: _("Added a holiday feed"),
    HOLIDAY_FEED_UPDATED: _("Changed a holiday feed"),
    HOLIDAY_FEED_DELETED: _("Deleted a holiday feed"),
    HOLIDAY_FEED_REFRESHED: _("Refreshed a holiday feed"),
    CONTACT_MERGED: _("Merged two contacts"),
    CONTACT_MERGE_UNDONE: _("Undid a contact merge"),
}


@dataclass
class _Served:
    request: HttpRequest
    api_key: ApiKey | None = None


_served: ContextVar[_Served | None] = ContextVar("audit_request", default=None)


class AuditContextMiddleware:
    """Makes the request being served known to ``record`` (its address, its API key)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _served.set(_Served(request))
        try:
            return self.get_response(request)
        finally:
            _served.reset(token)


def bind_api_key(key: ApiKey) -> None:
    """The request being served is authenticated by ``key`` (ApiKeyAuthentication)."""
    served = _served.get()
    if served is not None:
        served.api_key = key


def request_user() -> User | None:
    """The signed-in user of the request being served, for services that take no ``by``."""
    served = _served.get()
    user = getattr(served.request, "user", None) if served is not None else None
    return user if user is not None and user.is_authenticated else None


def _address() -> str | None:
    served = _served.get()
    if served is None:
        return None
    address = client_ip(served.request)
    try:
        return str(ip_address(address))
    except ValueError:
        return None


def _actor_fields(actor: User | None) -> dict[str, Any]:
    if actor is None:
        return {"actor_type": AuditEntry.ActorType.SYSTEM}
    served = _served.get()
    key = served.api_key if served is not None else None
    if key is not None and key.created_by_id == actor.pk:
        return {
            "actor_type": AuditEntry.ActorType.API_KEY,
            "actor_user": actor,
            "actor_api_key": key,
            "actor_label": f"{key.name} ({key.prefix}…)"[:254],
        }
    return {
        "actor_type": AuditEntry.ActorType.USER,
        "actor_user": actor,
        "actor_label": actor.email,
    }


def record(
    *,
    action: str,
    workspace_id,
    actor: User | None,
    target: tuple[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry (in the caller's transaction). ``target`` is (kind, id)."""
    target_type, target_id = target if target is not None else ("", "")
    return AuditEntry.objects.create(
        workspace_id=workspace_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id or ""),
        data=redact(data or {}),
        ip=_address(),
        **_actor_fields(actor),
    )
