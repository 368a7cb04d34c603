"""``{% notification_bell %}``: the bell in the top bar of every signed-in page."""

from __future__ import annotations

from django import template
from django.utils import timezone

from accounts import presence
from conversations.selectors import event_list_for
from workbench.selectors import notification_list_for
from workbench.services.notifications import preferences_of

register = template.Library()


def _last_event_id(user) -> int:
    """Where the bell's live updates resume on a page without the inbox's socket."""
    row = event_list_for(user=user, after=0).order_by("-id").values_list("id").first()
    return row[0] if row else 0


@register.inclusion_tag("workbench/_bell.html", takes_context=True)
def notification_bell(context) -> dict:
    user = context["request"].user
    preference = preferences_of(user.pk)
    unread = notification_list_for(user=user, unread=True).count()
    return {
        "unread": unread,
        "availability": user.availability,
        "availability_choices": user.Availability.choices,
        "effective": presence.effective_availability(user, timezone.now()),
        "bell": {
            "unread": unread,
            # The inbox's own socket resumes from the inbox's id; other pages need theirs.
            "last_event_id": 0 if context.get("nav") == "inbox" else _last_event_id(user),
            "browser": preference.browser,
            "sound": preference.sound,
            "user_id": str(user.pk),
        },
    }
