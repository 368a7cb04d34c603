"""Which plan a subscription gives its workspace, and the grace period after a failed payment.

The workspace's plan (``Workspace.plan``, what every limit reads) is always derived from its
subscription here: the subscription's plan while it is active or overdue within the grace
period, Free once it ended, is incomplete or paused, or the grace period ran out. A failed
payment keeps the plan for ``BILLING_GRACE_DAYS``; a beat task then moves the workspace to
Free and tells its admins (a notice in the product and an e-mail).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accounts import plans
from accounts import services as accounts_services
from billing import conf
from billing.models import ENTITLED_STATUSES, Notice, Subscription
from billing.services import notices


def entitled_plan(row: Subscription) -> str:
    if row.lapsed_at is None and row.status in ENTITLED_STATUSES and row.plan:
        return row.plan
    return plans.FREE


def settle(row: Subscription) -> bool:
    """Give the workspace the plan its subscription entitles it to; True when it changed."""
    return accounts_services.workspace_change_plan(
        workspace_id=row.workspace_id, plan=entitled_plan(row)
    )


def grace_start(row: Subscription, *, failed_at: datetime, now: datetime) -> bool:
    """A payment failed: the grace period starts, unless one is already running (or ran out)
    for an earlier failure. True when it started (the admins are to be told)."""
    if row.grace_until is not None or row.lapsed_at is not None:
        return False
    row.payment_failed_at = failed_at
    row.grace_until = now + conf.grace_period()
    return True


def grace_end(row: Subscription, *, paid_at: datetime) -> None:
    """A payment succeeded (or the provider says the subscription is active) at ``paid_at``:
    the failure is settled, unless the failure is newer than this news."""
    if row.payment_failed_at is not None and paid_at < row.payment_failed_at:
        return
    row.payment_failed_at = row.grace_until = row.lapsed_at = None


def _day(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "DATE_FORMAT")


def payment_failed_notify(row: Subscription) -> None:
    workspace = row.workspace
    assert row.grace_until is not None  # for mypy: only called once a grace period started
    with translation.override(workspace.language):
        title = _("A payment for your plan failed")
        body = _(
            "We could not charge the %(plan)s plan. Update the payment method before %(day)s, "
            "or the workspace moves to the Free plan then."
        ) % {"plan": plans.get(row.plan).name, "day": _day(row.grace_until)}
    notices.notice_to_admins(
        workspace=workspace, kind=Notice.Kind.PAYMENT_FAILED, title=title, body=body
    )


def _lapsed_notify(row: Subscription) -> None:
    workspace = row.workspace
    with translation.override(workspace.language):
        title = _("Your workspace is now on the Free plan")
        body = _(
            "The payment for the %(plan)s plan did not go through during the grace period. "
            "Your data is kept; update the payment method to get the %(plan)s plan back."
        ) % {"plan": plans.get(row.plan).name}
    notices.notice_to_admins(
        workspace=workspace, kind=Notice.Kind.PLAN_LAPSED, title=title, body=body
    )


@transaction.atomic
def _lapse(pk, now: datetime) -> bool:
    row = (
        Subscription.objects.select_for_update()
        .select_related("workspace")
        .filter(pk=pk, lapsed_at__isnull=True, grace_until__lte=now)
        .first()
    )
    if row is None:
        return False  # paid meanwhile, or another sweeper took it
    row.lapsed_at = now
    row.save(update_fields=["lapsed_at", "updated_at"])
    settle(row)
    _lapsed_notify(row)
    return True


def subscriptions_lapse(*, now: datetime) -> int:
    """Move the workspaces whose grace period ran out to Free (the beat task); returns how
    many. Each in its own transaction, so one failure never holds the others back."""
    due = Subscription.objects.filter(lapsed_at__isnull=True, grace_until__lte=now)
    return sum(_lapse(pk, now) for pk in due.values_list("pk", flat=True))
