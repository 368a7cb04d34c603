"""Who may act on a conversation once the selectors have let them see it."""

from __future__ import annotations

from accounts.models import User
from conversations.models import Conversation
from flame.exceptions import PermissionDeniedError


def is_operator(user: User) -> bool:
    """A platform operator (an active superuser, working in Django admin) acts in every
    workspace with the rights of its admins; most belong to no workspace at all."""
    return user.is_active and user.is_superuser


def ensure_can_act(*, by: User, conversation: Conversation) -> None:
    """Agents act on conversations they can see; selectors already hid the rest (404)."""
    if by.workspace_id != conversation.workspace_id and not is_operator(by):
        raise PermissionDeniedError("Not your workspace.")
