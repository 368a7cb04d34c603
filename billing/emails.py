"""E-mails to a workspace's admins about billing: the notice itself, with the way to act."""

from __future__ import annotations

from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from billing import conf
from billing.models import Notice


def send_notice(notice: Notice) -> int:
    """One e-mail per active admin of the notice's workspace; returns how many were sent."""
    workspace = notice.workspace
    if workspace is None:
        return 0  # announcements are shown in the product only
    admins = User.objects.filter(
        workspace=workspace, role=User.Role.ADMIN, is_active=True, is_pending=False
    )
    link = f"{conf.public_base_url()}/settings/billing/"
    sent = 0
    # The notice was written in the workspace's language: the rest of the e-mail follows it.
    with translation.override(workspace.language):
        body = f"{notice.body}\n\n{_('Plan and billing')}: {link}\n"
    for admin in admins:
        sent += send_mail(notice.title, body, None, [admin.email])
    return sent
