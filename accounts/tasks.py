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


@shared_task(acks_late=True)
def refresh_holiday_feeds_task() -> int:
    """Hourly: enqueue the daily refresh of each feed that is due (claimed, so once)."""
    from django.utils import timezone

    from accounts.services import holiday_feeds_due

    due = holiday_feeds_due(now=timezone.now())
    for feed_id in due:
        refresh_holiday_feed_task.delay(str(feed_id))
    return len(due)


# A fetch takes at most twice HOLIDAY_FEEDS_TIMEOUT_SECONDS (20 s by default).
@shared_task(acks_late=True, soft_time_limit=90, time_limit=120)
def refresh_holiday_feed_task(feed_id: str) -> None:
    """Fetch one feed and bring its dates up to date; a failure is stored on the feed."""
    from accounts.models import HolidayFeed
    from accounts.services import holiday_feed_refresh

    feed = HolidayFeed.objects.select_related("workspace").filter(pk=feed_id, enabled=True).first()
    if feed is not None:
        holiday_feed_refresh(feed=feed)
