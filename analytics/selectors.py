"""Read-only reports over conversations, messages and AI usage.

Every report starts from ``conversation_scope(user)``: admins see their workspace, agents their
own figures. Days are whole local days in the workspace timezone; ``last_day`` is inclusive.
Each report runs a fixed number of queries, whatever the number of rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from django.contrib.postgres.aggregates import StringAgg
from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    CharField,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDay, TruncWeek

from accounts.models import User
from assistants.models import AIUsage, Assistant
from assistants.schedule import workspace_zone
from assistants.selectors import usage_metrics, usage_row
from conversations.models import Conversation, Message
from conversations.selectors import conversation_scope, waiting_for_human
from conversations.types import Platform
from satisfaction.models import SatisfactionRating, SatisfactionSurvey

DAY = "day"
WEEK = "week"
PERCENTILES = {"median": 0.5, "p90": 0.9}


@dataclass(frozen=True)
class Window:
    first_day: date
    last_day: date
    granularity: str = DAY

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def previous(self) -> Window:
        last = self.first_day - timedelta(days=1)
        return Window(last - timedelta(days=self.days - 1), last, self.granularity)

    def bounds(self, zone: tzinfo) -> tuple[datetime, datetime]:
        start = datetime.combine(self.first_day, time.min, tzinfo=zone)
        end = datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=zone)
        return start, end


def _zone(user: User) -> tzinfo:
    workspace = user.workspace if user.workspace_id else None
    return workspace_zone(workspace.timezone if workspace is not None else "UTC")


def _in_window(field: str, window: Window, zone: tzinfo) -> Q:
    start, end = window.bounds(zone)
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def _conversations(user: User) -> QuerySet[Conversation]:
    return Conversation.objects.filter(conversation_scope(user))


# --- dashboard -----------------------------------------------------------------------------------


def _figure_counts(prefix: str, period: Q) -> dict:
    counts = {f"{prefix}total": Count("id", filter=period)}
    for status in Conversation.Status.values:
        counts[f"{prefix}status_{status}"] = Count("id", filter=period & Q(status=status))
    for platform in Platform.values:
        counts[f"{prefix}platform_{platform}"] = Count("id", filter=period & Q(platform=platform))
    # The priority agents filter and see in the inbox: the agent's, else the AI's.
    for priority in Conversation.Priority.values:
        counts[f"{prefix}priority_{priority}"] = Count("id", filter=period & Q(priority=priority))
    return counts


def _figures(row: dict, prefix: str) -> dict:
    def pick(kind: str, keys) -> dict:
        return {key: row[f"{prefix}{kind}_{key}"] for key in keys}

    return {
        "total": row[f"{prefix}total"],
        "by_status": pick("status", Conversation.Status.values),
        "by_platform": pick("platform", Platform.values),
        "by_priority": pick("priority", Conversation.Priority.values),
    }


def dashboard_for(*, user: User, window: Window) -> dict:
    """Conversations created in ``window`` and in the period of equal length before it, and
    ``unreplied``: every open conversation waiting for an agent now, whatever its age."""
    zone = _zone(user)
    previous = window.previous()
    current_period = _in_window("created_at", window, zone)
    previous_period = _in_window("created_at", previous, zone)
    waiting = waiting_for_human()
    # One pass over the two periods' rows and the waiting ones (a partial index finds those).
    row = (
        _conversations(user)
        .filter(current_period | previous_period | waiting)
        .aggregate(
            **_figure_counts("current_", current_period),
            **_figure_counts("previous_", previous_period),
            unreplied=Count("id", filter=waiting),
        )
    )
    return {
        "from": window.first_day,
        "to": window.last_day,
        **_figures(row, "current_"),
        "unreplied": row["unreplied"],
        "previous": {
            "from": previous.first_day,
            "to": previous.last_day,
            **_figures(row, "previous_"),
        },
    }


# --- conversations time series -------------------------------------------------------------------


def _bucket(field: str, window: Window, zone: tzinfo):
    trunc = TruncWeek if window.granularity == WEEK else TruncDay
    return trunc(field, tzinfo=zone)


def _bucket_starts(window: Window) -> list[date]:
    if window.granularity == WEEK:
        first = window.first_day - timedelta(days=window.first_day.weekday())
        step = 7
    else:
        first, step = window.first_day, 1
    count = (window.last_day - first).days // step + 1
    return [first + timedelta(days=step * index) for index in range(count)]


def _by_bucket(rows, zone: tzinfo) -> dict[date, dict]:
    return {row.pop("bucket").astimezone(zone).date(): row for row in rows}


def conversation_series_for(*, user: User, window: Window) -> dict:
    """New and resolved conversations, messages in and out, per local day or week."""
    zone = _zone(user)
    conversations = _conversations(user)
    created = conversations.filter(_in_window("created_at", window, zone))
    resolved = conversations.filter(_in_window("resolved_at", window, zone))
    messages = Message.objects.filter(
        _in_window("created_at", window, zone), conversation__in=conversations.values("pk")
    )
    new_rows = _by_bucket(
        created.annotate(bucket=_bucket("created_at", window, zone))
        .values("bucket")
        .annotate(count=Count("id"))
        .order_by(),
        zone,
    )
    resolved_rows = _by_bucket(
        resolved.annotate(bucket=_bucket("resolved_at", window, zone))
        .values("bucket")
        .annotate(count=Count("id"))
        .order_by(),
        zone,
    )
    message_rows = _by_bucket(
        messages.annotate(bucket=_bucket("created_at", window, zone))
        .values("bucket")
        .annotate(
            messages_in=Count("id", filter=Q(sender=Message.Sender.USER)),
            messages_out=Count("id", filter=~Q(sender=Message.Sender.USER) & Q(private=False)),
        )
        .order_by(),
        zone,
    )
    series = []
    for start in _bucket_starts(window):
        message_row = message_rows.get(start, {})
        series.append(
            {
                "date": start,
                "new": new_rows.get(start, {}).get("count", 0),
                "resolved": resolved_rows.get(start, {}).get("count", 0),
                "messages_in": message_row.get("messages_in", 0),
                "messages_out": message_row.get("messages_out", 0),
            }
        )
    return {
        "from": window.first_day,
        "to": window.last_day,
        "granularity": window.granularity,
        "series": series,
    }


# --- response time -------------------------------------------------------------------------------


class PercentileCont(Aggregate):
    """PostgreSQL ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, *, fraction: float, **extra):
        # A float constant from PERCENTILES, never user input, so formatting it in is safe.
        super().__init__(expression, fraction=float(fraction), **extra)


DURATIONS = {
    "first_response": ("first_response_at", "created_at"),
    "resolution": ("resolved_at", "created_at"),
}


def _duration(kind: str) -> ExpressionWrapper:
    end, start = DURATIONS[kind]
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def _seconds(value) -> float | None:
    if value is None:
        return None
    return round(value.total_seconds(), 1)


def _sql_statistics() -> dict:
    expressions: dict[str, Aggregate] = {}
    for kind, (end, _start) in DURATIONS.items():
        present = Q(**{f"{end}__isnull": False})
        expressions[f"{kind}_count"] = Count("id", filter=present)
        expressions[f"{kind}_average"] = Avg(
            _duration(kind), filter=present, output_field=DurationField()
        )
        for name, fraction in PERCENTILES.items():
            expressions[f"{kind}_{name}"] = PercentileCont(
                _duration(kind), fraction=fraction, filter=present, output_field=DurationField()
            )
    return expressions


def _statistics_from_row(row: Mapping[str, Any]) -> dict:
    return {
        kind: {
            "count": row[f"{kind}_count"],
            "median": _seconds(row[f"{kind}_median"]),
            "p90": _seconds(row[f"{kind}_p90"]),
            "average": _seconds(row[f"{kind}_average"]),
        }
        for kind in DURATIONS
    }


def _percentile(ordered: list[float], fraction: float) -> float:
    # The same linear interpolation as PostgreSQL's percentile_cont.
    position = fraction * (len(ordered) - 1)
    lower, upper = math.floor(position), math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def _statistics_from_durations(durations: dict[str, list[float]]) -> dict:
    statistics = {}
    for kind in DURATIONS:
        values = sorted(durations[kind])
        figures: Mapping[str, float | None] = dict.fromkeys([*PERCENTILES, "average"])
        if values:
            figures = {
                name: round(_percentile(values, fraction), 1)
                for name, fraction in PERCENTILES.items()
            } | {"average": round(sum(values) / len(values), 1)}
        statistics[kind] = {"count": len(values), **figures}
    return statistics


def _response_time_in_sql(conversations: QuerySet[Conversation]) -> dict:
    statistics = _sql_statistics()
    overall = conversations.aggregate(**statistics)
    by_agent = (
        conversations.filter(assigned_agent__isnull=False)
        .values("assigned_agent_id", "assigned_agent__name")
        .annotate(**statistics)
        .order_by("assigned_agent__name", "assigned_agent_id")
    )
    by_channel = conversations.values("platform").annotate(**statistics).order_by("platform")
    return {
        "overall": _statistics_from_row(overall),
        "by_agent": [
            {
                "agent_id": row["assigned_agent_id"],
                "agent_name": row["assigned_agent__name"],
                **_statistics_from_row(row),
            }
            for row in by_agent
        ],
        "by_channel": [
            {"platform": row["platform"], **_statistics_from_row(row)} for row in by_channel
        ],
    }


def _empty_durations() -> dict[str, list[float]]:
    return {kind: [] for kind in DURATIONS}


def _response_time_in_python(conversations: QuerySet[Conversation]) -> dict:
    # SQLite has no percentile_cont. The list is bounded by the window (at most 366 days of
    # one workspace's conversations), and this path only serves the embedded default.
    rows = conversations.values_list(
        "assigned_agent_id",
        "assigned_agent__name",
        "platform",
        "created_at",
        "first_response_at",
        "resolved_at",
    )
    overall = _empty_durations()
    agents: dict = {}
    channels: dict = {}
    for agent_id, agent_name, platform, created_at, first_response_at, resolved_at in rows:
        groups = [overall, channels.setdefault(platform, _empty_durations())]
        if agent_id is not None:
            groups.append(agents.setdefault((agent_name, agent_id), _empty_durations()))
        for end, kind in ((first_response_at, "first_response"), (resolved_at, "resolution")):
            if end is not None:
                for group in groups:
                    group[kind].append((end - created_at).total_seconds())
    return {
        "overall": _statistics_from_durations(overall),
        "by_agent": [
            {"agent_id": agent_id, "agent_name": name, **_statistics_from_durations(durations)}
            for (name, agent_id), durations in sorted(
                agents.items(), key=lambda item: (item[0][0], str(item[0][1]))
            )
        ],
        "by_channel": [
            {"platform": platform, **_statistics_from_durations(channels[platform])}
            for platform in sorted(channels)
        ],
    }


def response_time_for(*, user: User, window: Window) -> dict:
    """First response and resolution times (seconds) of conversations created in ``window``."""
    zone = _zone(user)
    conversations = _conversations(user).filter(_in_window("created_at", window, zone))
    if connection.vendor == "postgresql":
        report = _response_time_in_sql(conversations)
    else:
        report = _response_time_in_python(conversations)
    return {"from": window.first_day, "to": window.last_day, **report}


# --- AI usage ------------------------------------------------------------------------------------


def _usage_scope(user: User) -> Q:
    if user.workspace_id is None:
        return Q(pk__in=[])
    if user.is_workspace_admin:
        return Q(workspace_id=user.workspace_id)
    # Agents: the AI calls made for the conversations they see, nothing workspace-wide.
    return Q(workspace_id=user.workspace_id, conversation__in=_conversations(user).values("pk"))


def usage_for(*, user: User, window: Window) -> dict:
    """AI calls in ``window``: totals, per local day and per purpose."""
    zone = _zone(user)
    rows = AIUsage.objects.filter(_usage_scope(user), _in_window("created_at", window, zone))
    by_day = _by_bucket(
        rows.annotate(bucket=TruncDay("created_at", tzinfo=zone))
        .values("bucket")
        .annotate(**usage_metrics())
        .order_by(),
        zone,
    )
    by_purpose = rows.values("purpose").annotate(**usage_metrics()).order_by("purpose")
    return {
        "from": window.first_day,
        "to": window.last_day,
        "totals": usage_row(rows.aggregate(**usage_metrics())),
        "by_day": [{"date": day, **usage_row(by_day[day])} for day in sorted(by_day)],
        "by_purpose": [usage_row(row) for row in by_purpose],
    }


# --- assistants ----------------------------------------------------------------------------------


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _replied_by(sender: str) -> Exists:
    # A private note is the team talking among themselves, not a reply to the customer.
    return Exists(
        Message.objects.filter(conversation_id=OuterRef("pk"), sender=sender, private=False)
    )


def _answered_by_an_assistant() -> Exists:
    # Satisfaction surveys go out as assistant messages with no assistant: not AI involvement.
    return Exists(
        Message.objects.filter(
            conversation_id=OuterRef("pk"),
            sender=Message.Sender.ASSISTANT,
            assistant_id__isnull=False,
        )
    )


def assistants_for(*, user: User, window: Window) -> dict:
    """Per assistant of the workspace: conversations handled, replies, automation, AI cost.

    Four queries whatever the number of assistants: the assistants, then one grouped aggregate
    each over conversations, messages and AI usage (all limited to the caller's scope).
    """
    zone = _zone(user)
    if user.workspace_id is None:
        assistants = Assistant.objects.none()
    else:
        assistants = Assistant.objects.filter(workspace_id=user.workspace_id)
    conversations = _conversations(user)
    handled = (
        conversations.filter(
            _in_window("created_at", window, zone), assigned_assistant__isnull=False
        )
        .annotate(
            assistant_replied=_replied_by(Message.Sender.ASSISTANT),
            agent_replied=_replied_by(Message.Sender.AGENT),
        )
        .values("assigned_assistant_id")
        .annotate(
            handled=Count("id"),
            resolved=Count("id", filter=Q(resolved_at__isnull=False)),
            automated=Count(
                "id",
                filter=Q(resolved_at__isnull=False, assistant_replied=True, agent_replied=False),
            ),
            handed_off=Count("id", filter=Q(agent_replied=True) | Q(assigned_agent__isnull=False)),
        )
        .order_by()
    )
    messages = (
        Message.objects.filter(
            _in_window("created_at", window, zone),
            sender=Message.Sender.ASSISTANT,
            assistant__isnull=False,
            conversation__in=conversations.values("pk"),
        )
        .values("assistant_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    usage = (
        AIUsage.objects.filter(
            _usage_scope(user), _in_window("created_at", window, zone), assistant__isnull=False
        )
        .values("assistant_id")
        .annotate(
            tokens=Coalesce(Sum(F("prompt_tokens") + F("completion_tokens")), 0), cost=Sum("cost")
        )
        .order_by()
    )
    handled_by = {row["assigned_assistant_id"]: row for row in handled}
    messages_by = {row["assistant_id"]: row["count"] for row in messages}
    usage_by = {row["assistant_id"]: row for row in usage}
    rows = []
    for assistant in assistants.order_by("name", "id").only("id", "name", "type", "status"):
        counts: Mapping[str, Any] = handled_by.get(assistant.pk, {})
        spent: Mapping[str, Any] = usage_by.get(assistant.pk, {})
        total = counts.get("handled", 0)
        rows.append(
            {
                "assistant_id": assistant.pk,
                "assistant_name": assistant.name,
                "type": assistant.type,
                "status": assistant.status,
                "conversations_handled": total,
                "resolved": counts.get("resolved", 0),
                "messages_sent": messages_by.get(assistant.pk, 0),
                "automation_rate": _rate(counts.get("automated", 0), counts.get("resolved", 0)),
                "handoff_rate": _rate(counts.get("handed_off", 0), total),
                "ai_tokens": spent.get("tokens", 0),
                "ai_cost": spent.get("cost") or 0,
            }
        )
    return {"from": window.first_day, "to": window.last_day, "assistants": rows}


# --- CSV export ----------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "id",
    "channel",
    "contact_name",
    "created",
    "first_response",
    "resolved",
    "assignee_email",
    "assistant_name",
    "ai_involved",
    "messages_in",
    "messages_out",
    "csat",
    "tags",
)
EXPORT_CHUNK = 2000
TAG_SEPARATOR = ";"


class GroupConcat(Aggregate):
    """SQLite ``GROUP_CONCAT(expression, ';')``: the embedded default's StringAgg."""

    function = "GROUP_CONCAT"
    template = "%(function)s(%(expressions)s, ';')"
    output_field = CharField()


def _joined_tags() -> Subquery:
    through = Conversation.tags.through
    names: Aggregate
    if connection.vendor == "postgresql":
        names = StringAgg("tag__name", delimiter=TAG_SEPARATOR, order_by="tag__name")
    else:
        names = GroupConcat("tag__name")
    joined = (
        through.objects.filter(conversation_id=OuterRef("pk"))
        .order_by()
        .values("conversation_id")
        .annotate(names=names)
        # The annotation just made; the stubs do not follow an aggregate held in a variable.
        .values("names")  # type: ignore[misc]
    )
    return Subquery(joined, output_field=CharField())


def _message_count(condition: Q) -> Coalesce:
    counted = (
        Message.objects.filter(condition, conversation_id=OuterRef("pk"))
        .order_by()
        .values("conversation_id")
        .annotate(count=Count("id"))
        .values("count")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _latest_score() -> Subquery:
    latest = SatisfactionRating.objects.filter(conversation_id=OuterRef("pk")).order_by(
        "-created_at"
    )
    return Subquery(latest.values("score")[:1], output_field=IntegerField())


def _local_iso(moment: datetime | None, zone: tzinfo) -> str:
    return moment.astimezone(zone).isoformat() if moment else ""


def export_rows(*, user: User, window: Window):
    """Yield the CSV header, then one row per conversation created in ``window``.

    Streamed from a database cursor in chunks of ``EXPORT_CHUNK``: counts and tags are
    correlated subqueries, so memory stays flat whatever the number of conversations.
    """
    zone = _zone(user)
    rows = (
        _conversations(user)
        .filter(_in_window("created_at", window, zone))
        .annotate(
            messages_in=_message_count(Q(sender=Message.Sender.USER)),
            messages_out=_message_count(~Q(sender=Message.Sender.USER) & Q(private=False)),
            ai_involved=_answered_by_an_assistant(),
            tag_names=_joined_tags(),
            csat=_latest_score(),
        )
        .order_by("created_at", "id")
        .values_list(
            "id",
            "platform",
            "contact__name",
            "created_at",
            "first_response_at",
            "resolved_at",
            "assigned_agent__email",
            "assigned_assistant__name",
            "ai_involved",
            "messages_in",
            "messages_out",
            "csat",
            "tag_names",
        )
    )
    yield list(EXPORT_COLUMNS)
    for (
        pk,
        platform,
        contact_name,
        created_at,
        first_response_at,
        resolved_at,
        agent_email,
        assistant_name,
        ai_involved,
        messages_in,
        messages_out,
        score,
        tag_names,
    ) in rows.iterator(chunk_size=EXPORT_CHUNK):
        tags = sorted(tag_names.split(TAG_SEPARATOR)) if tag_names else []
        yield [
            str(pk),
            platform,
            contact_name,
            _local_iso(created_at, zone),
            _local_iso(first_response_at, zone),
            _local_iso(resolved_at, zone),
            agent_email or "",
            assistant_name or "",
            "true" if ai_involved else "false",
            messages_in,
            messages_out,
            score or "",
            TAG_SEPARATOR.join(tags),
        ]


# --- satisfaction --------------------------------------------------------------------------------


def _satisfaction_scope(user: User) -> Q:
    """Admins: the workspace's ratings; agents: the ratings of conversations they handled."""
    if user.workspace_id is None or not user.is_active:
        return Q(pk__in=[])
    in_workspace = Q(workspace_id=user.workspace_id)
    return in_workspace if user.is_workspace_admin else in_workspace & Q(agent_id=user.pk)


def _average(value) -> float | None:
    return round(float(value), 2) if value is not None else None


def _ratings_by(ratings: QuerySet, field: str, names: dict) -> list[dict]:
    rows = (
        ratings.exclude(**{f"{field}__isnull": True})
        .order_by()
        .values(field)
        .annotate(average=Avg("score"), ratings=Count("id"))
    )
    return sorted(
        (
            {
                f"{field}_id": row[field],
                "name": names.get(row[field], ""),
                "average": _average(row["average"]),
                "ratings": row["ratings"],
            }
            for row in rows
        ),
        key=lambda row: (-row["ratings"], row["name"]),
    )


def satisfaction_for(*, user: User, window: Window) -> dict:
    """CSAT over ratings given in ``window``: average, distribution, response rate (surveys
    sent in the window that got an answer), by agent and by assistant. Six queries."""
    zone = _zone(user)
    scope = _satisfaction_scope(user)
    ratings = SatisfactionRating.objects.filter(scope, _in_window("created_at", window, zone))
    totals = ratings.aggregate(
        average=Avg("score"),
        ratings=Count("id"),
        **{f"score_{score}": Count("id", filter=Q(score=score)) for score in range(1, 6)},
    )
    surveys = SatisfactionSurvey.objects.filter(scope, _in_window("sent_at", window, zone))
    sent = surveys.aggregate(
        sent=Count("id"), answered=Count("id", filter=Q(answered_at__isnull=False))
    )
    # The names of the people and assistants in the workspace (the ratings keep their ids).
    agents = dict(User.objects.filter(workspace=user.workspace).values_list("id", "name"))
    assistants = dict(Assistant.objects.filter(workspace=user.workspace).values_list("id", "name"))
    return {
        "from": window.first_day,
        "to": window.last_day,
        "average": _average(totals["average"]),
        "ratings": totals["ratings"],
        "distribution": {str(score): totals[f"score_{score}"] for score in range(1, 6)},
        "surveys_sent": sent["sent"],
        "responses": sent["answered"],
        "response_rate": _rate(sent["answered"], sent["sent"]),
        "by_agent": _ratings_by(ratings, "agent", agents),
        "by_assistant": _ratings_by(ratings, "assistant", assistants),
    }
