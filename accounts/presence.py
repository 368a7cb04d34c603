"""Whether a member is here: what they chose (online, busy, offline) and whether any of their
sockets was heard from lately.

The inbox's socket (``conversations.consumers``) records each connect and disconnect and, at
most once a minute, that an open socket is still alive (``accounts.services.presence_*``). A
member whose last socket closed more than ``PRESENCE_OFFLINE_AFTER_SECONDS`` ago counts as
offline whatever they chose, and is online again, as they chose, when a socket reopens. A
server that dies never closes its sockets: counts are only believed while the member was heard
from within ``PRESENCE_SOCKET_STALE_SECONDS``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q

ONLINE = "online"
OFFLINE = "offline"


def offline_after() -> timedelta:
    return timedelta(seconds=settings.PRESENCE_OFFLINE_AFTER_SECONDS)


def socket_stale_after() -> timedelta:
    return timedelta(seconds=settings.PRESENCE_SOCKET_STALE_SECONDS)


def present(now: datetime) -> Q:
    """Members with a socket open now or closed less than a few minutes ago (a filter on User)."""
    return Q(last_seen_at__gt=now - offline_after())


def with_open_socket(now: datetime) -> Q:
    return Q(open_sockets__gt=0, last_seen_at__gt=now - socket_stale_after())


def is_present(user: Any, now: datetime) -> bool:
    return user.last_seen_at is not None and user.last_seen_at > now - offline_after()


def has_open_socket(user: Any, now: datetime) -> bool:
    seen = user.last_seen_at
    return user.open_sockets > 0 and seen is not None and seen > now - socket_stale_after()


def effective_availability(user: Any, now: datetime) -> str:
    """What colleagues and auto-assignment see: the member's choice while present."""
    return user.availability if is_present(user, now) else OFFLINE
