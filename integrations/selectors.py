from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from flame.exceptions import NotFoundError
from integrations.models import Integration


def integration_list_for(*, user: User) -> QuerySet[Integration]:
    if user.workspace_id is None:
        return Integration.objects.none()
    return Integration.objects.filter(workspace_id=user.workspace_id)


def integration_get_for(*, user: User, integration_id) -> Integration:
    integration = integration_list_for(user=user).filter(pk=integration_id).first()
    if integration is None:
        raise NotFoundError("Integration not found.")
    return integration
