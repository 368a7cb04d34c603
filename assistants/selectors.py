from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from assistants.models import Assistant
from flame.exceptions import NotFoundError


def assistant_list_for(*, user: User) -> QuerySet[Assistant]:
    if user.workspace_id is None:
        return Assistant.objects.none()
    return Assistant.objects.filter(workspace_id=user.workspace_id)


def assistant_get_for(*, user: User, assistant_id) -> Assistant:
    assistant = assistant_list_for(user=user).filter(pk=assistant_id).first()
    if assistant is None:
        raise NotFoundError("Assistant not found.")
    return assistant
