from __future__ import annotations

from celery import shared_task

from accounts import emails

_SENDERS = {
    "password_reset": emails.send_password_reset,
    "invitation": emails.send_invitation,
    "signup": emails.send_signup_confirmation,
}


@shared_task(
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def send_account_email_task(user_id: str, kind: str) -> None:
    """Build the link inside the task so no token ever travels through the broker."""
    from accounts.models import User

    user = User.objects.select_related("workspace").filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    _SENDERS[kind](user)


@shared_task(acks_late=True)
def prune_unconfirmed_signups_task() -> int:
    from accounts.services import signups_prune_unconfirmed

    return signups_prune_unconfirmed()


@shared_task(acks_late=True)
def prune_audit_log_task() -> int:
    from django.utils import timezone

    from accounts.services import audit_prune

    return audit_prune(now=timezone.now())
