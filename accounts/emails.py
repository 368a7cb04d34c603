"""Account e-mails: invitation and password reset links.

The link carries ``<uidb64>.<token>`` from Django's PasswordResetTokenGenerator: it expires after
PASSWORD_RESET_TIMEOUT and stops working once used, because the token is bound to the password
hash and last login, both of which change when it is redeemed.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts.models import User


def password_token_for(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(str(user.pk)))
    return f"{uid}.{default_token_generator.make_token(user)}"


def password_link_for(user: User) -> str:
    return f"{settings.PUBLIC_BASE_URL}/reset-password/{password_token_for(user)}/"


def _language_of(user: User) -> str:
    if user.language:
        return user.language
    return user.workspace.language if user.workspace_id else settings.LANGUAGE_CODE


def send_password_reset(user: User) -> None:
    with translation.override(_language_of(user)):
        send_mail(
            subject=_("Reset your FLAME Assistant password"),
            message=_(
                "Someone asked to reset the password of %(email)s.\n\n"
                "Open this link within %(minutes)d minutes to choose a new one:\n%(link)s\n\n"
                "If it was not you, ignore this e-mail; your password stays the same."
            )
            % {
                "email": user.email,
                "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
                "link": password_link_for(user),
            },
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[user.email],
        )


def send_invitation(user: User) -> None:
    with translation.override(_language_of(user)):
        send_mail(
            subject=_("You have been invited to %(workspace)s on FLAME Assistant")
            % {"workspace": user.workspace.name},
            message=_(
                "Hello %(name)s,\n\nYou have been invited to join %(workspace)s.\n"
                "Choose your password here (the link expires in %(minutes)d minutes):\n%(link)s"
            )
            % {
                "name": user.name,
                "workspace": user.workspace.name,
                "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
                "link": password_link_for(user),
            },
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[user.email],
        )
