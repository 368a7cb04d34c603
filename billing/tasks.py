from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task(
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def send_notice_email_task(notice_id: str) -> int:
    from billing import emails
    from billing.models import Notice

    notice = Notice.objects.select_related("workspace").filter(pk=notice_id).first()
    return emails.send_notice(notice) if notice is not None else 0


@shared_task(acks_late=True)
def billing_grace_sweep_task() -> int:
    """Workspaces whose grace period after a failed payment ran out move to Free."""
    from billing.services import subscriptions_lapse

    return subscriptions_lapse(now=timezone.now())
