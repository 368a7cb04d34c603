"""The notification digest e-mailed to a member who was away: mentions and assignments they
have not read, in their language, each with the link to its conversation."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.emails import language_of
from accounts.models import User
from workbench.models import Notification


def _line(notification: Notification) -> str:
    contact = notification.conversation.contact
    who = notification.actor.name if notification.actor else _("FLAME")
    customer = contact.name or contact.phone or contact.email or _("a customer")
    link = settings.PUBLIC_BASE_URL + reverse(
        "inbox-conversation", args=[notification.conversation_id]
    )
    if notification.kind == Notification.Kind.MENTION:
        head = _("%(who)s mentioned you in the conversation with %(customer)s:") % {
            "who": who,
            "customer": customer,
        }
        return f"- {head}\n  “{notification.text}”\n  {link}"
    head = _("The conversation with %(customer)s was assigned to you.") % {"customer": customer}
    return f"- {head}\n  {link}"


def send_digest(*, user_id: str, notification_ids: list[str]) -> None:
    user = User.objects.select_related("workspace").filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    notifications = list(
        Notification.objects.select_related("conversation__contact", "actor")
        .filter(pk__in=notification_ids, user=user, read_at__isnull=True)
        .order_by("created_at")
    )
    if not notifications:
        return  # read in the meantime
    with translation.override(language_of(user)):
        count = len(notifications)
        subject = ngettext(
            "%(count)d thing needs you in FLAME", "%(count)d things need you in FLAME", count
        ) % {"count": count}
        body = "\n\n".join(
            [
                _("Hello %(name)s, this happened while you were away:") % {"name": user.name},
                *[_line(notification) for notification in notifications],
                _("You can choose what you are told in your notification preferences."),
            ]
        )
        send_mail(
            subject=subject,
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[user.email],
        )
