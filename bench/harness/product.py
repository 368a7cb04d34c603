"""The benchmark's fixtures and its read-backs from the database (the one module using Django).

Call after ``django.setup()``. One workspace with an admin who signs in like a person, a
WhatsApp integration with a known app secret, and the channel's default assistant:

- ``off-duty`` (default): an active fixed-reply assistant outside its schedule. Every message
  gets what production gives it (its ``AutoReplyJob``, the reply task after the quiet period,
  which decides and closes the job, and the debounced analysis), and no reply is sent, so the
  numbers are about ingestion, not about WhatsApp's send limit (80/s per number);
- ``replying``: the same assistant always on duty: every quiet customer gets a fixed reply,
  delivered to a local stand-in of the Graph API (bench/harness/fake_graph.py);
- ``none``: no assistant (no reply jobs; the analysis is still scheduled).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Max, Min, Q

from accounts.models import User, Workspace
from assistants.models import Assistant, AutoReplyJob, ConversationAnalysis
from bench.harness import whatsapp
from conversations.models import Event, Message
from integrations.models import Integration, WebhookEvent

ADMIN_EMAIL = "admin@bench.example"
ADMIN_PASSWORD = "bench-Admin-password-9431"
ASSISTANT_MODES = ("off-duty", "replying", "none")


@dataclass(frozen=True)
class Fixture:
    workspace_id: object
    integration_id: object
    admin_email: str = ADMIN_EMAIL
    admin_password: str = ADMIN_PASSWORD


def seed(*, assistant_mode: str) -> Fixture:
    workspace = Workspace.objects.create(name="Bench", plan="business")
    admin = User(email=ADMIN_EMAIL, name="Bench Admin", role=User.Role.ADMIN, workspace=workspace)
    admin.is_pending = False
    admin.set_password(ADMIN_PASSWORD)
    admin.save()
    assistant = None
    if assistant_mode != "none":
        assistant = Assistant.objects.create(
            workspace=workspace,
            name="Bench assistant",
            type=Assistant.Type.AUTO,
            auto_response="Gracias por escribirnos, en un momento te atendemos.",
            schedule_mode=(
                Assistant.ScheduleMode.ALWAYS
                if assistant_mode == "replying"
                else Assistant.ScheduleMode.INSIDE  # no schedule: never on duty
            ),
        )
    integration = Integration.objects.create(
        workspace=workspace,
        platform="whatsapp",
        name="Bench WhatsApp",
        status=Integration.Status.ACTIVE,
        external_account_id=whatsapp.PHONE_NUMBER_ID,
        default_assistant=assistant,
        credentials={
            "access_token": "bench-access-token",
            "phone_number_id": whatsapp.PHONE_NUMBER_ID,
            "app_secret": whatsapp.APP_SECRET,
            "waba_id": whatsapp.WABA_ID,
        },
    )
    return Fixture(workspace_id=workspace.pk, integration_id=integration.pk)


def last_event_id() -> int:
    return Event.objects.aggregate(last=Max("id"))["last"] or 0


def stored_count(prefix: str) -> int:
    return Message.objects.filter(external_id__startswith=prefix).count()


def stored_messages(prefix: str) -> dict[str, dict]:
    """external id -> {"rows": how many, "first": earliest created_at as a UNIX time}."""
    rows = (
        Message.objects.filter(external_id__startswith=prefix)
        .values("external_id")
        .annotate(rows=Count("id"), first=Min("created_at"))
    )
    return {
        row["external_id"]: {"rows": row["rows"], "first": row["first"].timestamp()} for row in rows
    }


def message_new_events(prefix: str) -> dict[str, int]:
    """external id -> how many ``message:new`` outbox rows name it (exactly one is right)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT payload -> 'message' ->> 'external_id', count(*)
            FROM {Event._meta.db_table}
            WHERE kind = 'message:new' AND payload -> 'message' ->> 'external_id' LIKE %s
            GROUP BY 1
            """,
            [prefix + "%"],
        )
        return dict(cursor.fetchall())


def work_done(since_event_id: int) -> dict[str, int]:
    """What the messages caused besides themselves: reply jobs by status, events by kind."""
    jobs = dict(
        AutoReplyJob.objects.values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    events = dict(
        Event.objects.filter(id__gt=since_event_id)
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    return {"jobs": jobs, "events": events}


def pending_work() -> dict[str, int]:
    """Work still owed: webhook events not finished, reply jobs not decided, analyses due or
    being run."""
    return {
        "analyses": ConversationAnalysis.objects.filter(
            Q(due_at__isnull=False) | Q(claim_token__isnull=False)
        ).count(),
        "webhook_events": WebhookEvent.objects.filter(
            status__in=(WebhookEvent.Status.RECEIVED, WebhookEvent.Status.PROCESSING)
        ).count(),
        "reply_jobs": AutoReplyJob.objects.filter(
            status__in=(AutoReplyJob.Status.PENDING, AutoReplyJob.Status.CLAIMED)
        ).count(),
    }


def processing_count() -> int:
    return WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSING).count()


def processing_message_ids() -> list[str]:
    """The WhatsApp message ids inside events that are claimed right now."""
    found = []
    for body in WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSING).values_list(
        "body", flat=True
    ):
        payload = json.loads(bytes(body))
        for entry in payload.get("entry", []):
            for change in entry.get("changes", []):
                found += [m["id"] for m in change.get("value", {}).get("messages", [])]
    return found
