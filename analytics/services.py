"""The one write analytics makes: an export goes into the audit log (accounts.audit)."""

from __future__ import annotations

from django.db import transaction

from accounts import audit
from accounts.models import User


@transaction.atomic
def export_record(*, by: User, first_day, last_day, what: str = "conversations.csv") -> None:
    audit.record(
        action=audit.EXPORT_DOWNLOADED,
        workspace_id=by.member_workspace_id,
        actor=by,
        target=("export", what),
        data={"export": what, "from": first_day.isoformat(), "to": last_day.isoformat()},
    )
