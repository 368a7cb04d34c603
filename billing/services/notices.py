"""Notices to workspace admins: shown at the top of every page until dismissed, and e-mailed
when billing needs them to act."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.models import User, Workspace
from billing import selectors
from billing.models import Notice, NoticeDismissal
from flame.exceptions import PermissionDeniedError


def notice_to_admins(*, workspace: Workspace, kind: str, title: str, body: str) -> Notice:
    """A warning for one workspace's admins, e-mailed to them once the change commits."""
    from billing.tasks import send_notice_email_task

    notice = Notice.objects.create(
        workspace=workspace, kind=kind, level=Notice.Level.WARNING, title=title, body=body
    )
    transaction.on_commit(lambda: send_notice_email_task.delay(str(notice.pk)), robust=True)
    return notice


@transaction.atomic
def notice_broadcast(*, by: User, title: str, body: str = "", level: str = "info") -> Notice:
    """A platform operator's announcement to the admins of every workspace of this moment."""
    if not (by.is_active and by.is_staff):
        raise PermissionDeniedError("Only platform staff can do this.")
    return Notice.objects.create(
        workspace=None,
        kind=Notice.Kind.ANNOUNCEMENT,
        level=level,
        title=title,
        body=body,
        created_by=by,
    )


def notice_dismiss(*, user: User, notice_id) -> None:
    """Hide a notice from ``user`` (a notice they cannot see is not found); twice is once."""
    notice = selectors.notice_get_for(user=user, notice_id=notice_id)
    try:
        with transaction.atomic():
            NoticeDismissal.objects.create(notice=notice, user=user)
    except IntegrityError:
        pass  # dismissed already (another tab, a double click)
