"""Account e-mails: sign-up confirmation, invitation and password reset links.

The link carries ``<uidb64>.<token>`` from Django's PasswordResetTokenGenerator: it expires after
PASSWORD_RESET_TIMEOUT and stops working once used, because the token is bound to the password
hash and last login, both of which change when it is redeemed.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
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


def language_of(user: User) -> str:
    if user.language:
        return user.language
    return user.workspace.language if user.workspace_id else settings.LANGUAGE_CODE


def send_password_reset(user: User) -> None:
    with translation.override(language_of(user)):
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


SIGNUP_SALT = "accounts.signup-confirm"


def signup_token_for(user: User) -> str:
    return signing.dumps(str(user.pk), salt=SIGNUP_SALT)


def signup_user_for(token: str) -> User | None:
    """The pending sign-up a confirmation token names, while it is valid and unconfirmed."""
    try:
        user_id = signing.loads(token, salt=SIGNUP_SALT, max_age=settings.SIGNUP_CONFIRM_SECONDS)
    except signing.BadSignature:
        return None
    return User.objects.filter(pk=user_id, is_pending=True, is_active=True).first()


def address_has_account(user: User) -> bool:
    """Whether another, claimed account already holds ``user``'s address."""
    claimed = User.objects.filter(email__iexact=user.email, is_pending=False)
    return claimed.exclude(pk=user.pk).exists()


def _send(user: User, subject: str, message: str) -> None:
    send_mail(
        subject=subject,
        message=message,
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )


def send_signup_confirmation(user: User) -> None:
    """The link that finishes a registration, or, for an address with an account, a warning."""
    with translation.override(language_of(user)):
        if address_has_account(user):
            _send(
                user,
                _("Someone tried to create a FLAME Assistant account with your address"),
                _(
                    "Someone asked to create the workspace %(workspace)s with %(email)s, which "
                    "already has an account. Nothing was created.\n\n"
                    "If it was you, sign in at %(login)s (or reset your password there)."
                    "\nIf it was not you, ignore this e-mail."
                )
                % {
                    "workspace": user.workspace.name,
                    "email": user.email,
                    "login": f"{settings.PUBLIC_BASE_URL}/login/",
                },
            )
            return
        _send(
            user,
            _("Confirm your address to create %(workspace)s") % {"workspace": user.workspace.name},
            _(
                "Hello %(name)s,\n\nOpen this link within %(days)d days to confirm %(email)s "
                "and finish creating %(workspace)s on FLAME Assistant:\n%(link)s\n\n"
                "If it was not you, ignore this e-mail; nothing is created without it."
            )
            % {
                "name": user.name,
                "email": user.email,
                "workspace": user.workspace.name,
                "days": settings.SIGNUP_CONFIRM_SECONDS // 86400,
                "link": f"{settings.PUBLIC_BASE_URL}/signup/confirm/{signup_token_for(user)}/",
            },
        )


def _send_invitation_to_taken_address(user: User) -> None:
    _send(
        user,
        _("You have been invited to %(workspace)s on FLAME Assistant")
        % {"workspace": user.workspace.name},
        _(
            "Hello %(name)s,\n\nYou have been invited to join %(workspace)s, but %(email)s "
            "already has a FLAME Assistant account in another workspace, and an address can "
            "belong to one account only. Ask the person who invited you to use another address."
        )
        % {"name": user.name, "workspace": user.workspace.name, "email": user.email},
    )


def send_invitation(user: User) -> None:
    with translation.override(language_of(user)):
        if address_has_account(user):
            _send_invitation_to_taken_address(user)
            return
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
