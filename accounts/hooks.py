"""Everything accounts announces to the apps built on it (see flame/hooks.py).

Receivers are connected in the higher apps' ``AppConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from flame.hooks import Hook


class MemberRightsChanged(Protocol):
    def __call__(self, *, user_ids: Sequence[UUID]) -> None: ...


# What these members may see changed — their role, their deactivation or deletion, or the
# workspace's ``agents_see_unassigned`` — inside the transaction that changes it. The realtime
# layer makes their open sockets re-authenticate once it commits.
member_rights_changed: Hook[MemberRightsChanged] = Hook("member_rights_changed")


class MemberAvailable(Protocol):
    def __call__(self, *, user_ids: Sequence[UUID]) -> None: ...


# These members can take conversations again (inside the transaction that records it): they
# came back (a socket opened after they were away) with their status online, or set it online
# while here. Auto-assignment gives them waiting conversations once it commits.
member_available: Hook[MemberAvailable] = Hook("member_available")
