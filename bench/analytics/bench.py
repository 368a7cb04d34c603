"""Analytics benchmark: dashboard and response-time over 100,000 conversations.

Seeds one workspace with raw ``INSERT ... SELECT generate_series(...)`` (seconds, not the ORM
row by row): conversations spread over 90 days across statuses, platforms and 10 agents, with
first response and resolution times, and ten messages each. Then ANALYZE, and each endpoint is
called through DRF's test client for a 30-day window: 3 warm-ups, then timed runs, p50/p95 in ms.

Usage (PostgreSQL required): bench/analytics/run [--conversations 100000] [--repeat 30]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flame.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from accounts.models import User, Workspace  # noqa: E402
from accounts.services import tokens_for  # noqa: E402
from conversations.models import Contact, Conversation, Message  # noqa: E402
from satisfaction.models import SatisfactionRating, SatisfactionSurvey  # noqa: E402

AGENTS = 10
MESSAGES_PER_CONVERSATION = 10
WARM_UPS = 3
SURVEY = SatisfactionSurvey._meta.db_table
RATING = SatisfactionRating._meta.db_table
ENDPOINTS = ("dashboard", "response-time", "satisfaction")
PLATFORMS = ("whatsapp", "facebook", "instagram", "telegram", "sandbox")


def _seed_people() -> tuple[Workspace, User, list[User]]:
    # Business: API access and a year of analytics history (plans limit both).
    workspace = Workspace.objects.create(
        name="Bench", timezone="America/Mexico_City", plan=Workspace.Plan.BUSINESS
    )
    admin = User.objects.create(
        email="admin@bench.example", name="Admin", role=User.Role.ADMIN, workspace=workspace
    )
    agents = [
        User.objects.create(
            email=f"agent{n}@bench.example", name=f"Agent {n}", role="agent", workspace=workspace
        )
        for n in range(AGENTS)
    ]
    return workspace, admin, agents


def _seed_rows(workspace: Workspace, agents: list[User], conversations: int) -> None:
    agent_ids = "ARRAY[" + ",".join(f"'{agent.pk}'::uuid" for agent in agents) + "]"
    platforms = "ARRAY[" + ",".join(f"'{name}'" for name in PLATFORMS) + "]"
    params = {"workspace": workspace.pk, "count": conversations}
    contact = Contact._meta.db_table
    conversation = Conversation._meta.db_table
    message = Message._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {contact} (id, workspace_id, name, phone, email, avatar_url, metadata,
                                   note, attributes, created_at, updated_at)
            SELECT md5('contact' || g)::uuid, %(workspace)s, 'Contact ' || g,
                   '+52155' || lpad(g::text, 8, '0'), '', '', '{{}}', '', '{{}}', now(), now()
            FROM generate_series(1, %(count)s) AS g
            """,
            params,
        )
        # Status: 60% resolved, 20% active, 10% pending, 10% archived. 80% assigned.
        # 90% answered, first response after 1 to 120 minutes; resolution 10 min to 2 days.
        cursor.execute(
            f"""
            INSERT INTO {conversation} (
                id, workspace_id, integration_id, contact_id, platform, status, priority,
                assigned_agent_id, assigned_assistant_id, last_message, last_message_at,
                last_customer_message_at, last_agent_reply_at, unread_count, message_count,
                ai_summary, ai_priority, ai_tags, ai_analyzed_at, first_response_at,
                resolved_at, created_at, updated_at, last_message_sender)
            SELECT md5('conversation' || g)::uuid, %(workspace)s, NULL,
                   md5('contact' || g)::uuid,
                   ({platforms})[1 + g %% {len(PLATFORMS)}],
                   CASE WHEN g %% 10 < 6 THEN 'resolved' WHEN g %% 10 < 8 THEN 'active'
                        WHEN g %% 10 < 9 THEN 'pending' ELSE 'archived' END,
                   (ARRAY['low','medium','high','urgent'])[1 + g %% 4],
                   CASE WHEN g %% 5 = 0 THEN NULL ELSE ({agent_ids})[1 + g %% {AGENTS}] END,
                   NULL, 'Hola', created + interval '30 minutes', created, NULL, 0,
                   {MESSAGES_PER_CONVERSATION}, '',
                   (ARRAY['','low','medium','high','urgent'])[1 + g %% 5], '[]', NULL,
                   CASE WHEN g %% 10 <> 3
                        THEN created + (1 + random() * 119) * interval '1 minute' END,
                   CASE WHEN g %% 10 < 6 OR g %% 10 = 9
                        THEN created + (10 + random() * 2870) * interval '1 minute' END,
                   created, created, ''
            FROM (
                SELECT g, now() - random() * interval '90 days' AS created
                FROM generate_series(1, %(count)s) AS g
            ) AS seed
            """,
            params,
        )
        cursor.execute(
            f"""
            INSERT INTO {message} (
                id, conversation_id, workspace_id, integration_id, sender, author_id,
                assistant_id, type, content, media_url, status, error_code, error_message,
                external_id, reply_to_id, metadata, is_edited, is_deleted, created_at,
                status_changed_at)
            SELECT gen_random_uuid(), c.id, c.workspace_id, NULL,
                   CASE WHEN k %% 2 = 0 THEN 'user'
                        WHEN k = {MESSAGES_PER_CONVERSATION - 1}
                             AND abs(hashtext(c.id::text)) %% 3 = 0 THEN 'user'
                        WHEN k %% 4 = 1 THEN 'assistant'
                        ELSE 'agent' END,
                   NULL, NULL, 'text', 'Mensaje ' || k, '', 'delivered', '', '', NULL, NULL,
                   '{{}}', false, false, c.created_at + k * interval '3 minutes', NULL
            FROM {conversation} AS c
            CROSS JOIN generate_series(0, {MESSAGES_PER_CONVERSATION - 1}) AS k
            WHERE c.workspace_id = %(workspace)s
            """,
            params,
        )
        # About a third of the conversations end with the customer's message (unreplied).
        cursor.execute(
            f"""
            UPDATE {conversation} AS c SET last_message_sender = (
                SELECT m.sender FROM {message} AS m WHERE m.conversation_id = c.id
                ORDER BY m.created_at DESC LIMIT 1)
            WHERE c.workspace_id = %(workspace)s
            """,
            params,
        )
        # Those still open wait for an agent (the dashboard's "unreplied").
        cursor.execute(
            f"""
            UPDATE {conversation} SET waiting_since = last_customer_message_at
            WHERE workspace_id = %(workspace)s AND last_message_sender = 'user'
                  AND status IN ('active', 'pending')
            """,
            params,
        )
        _seed_satisfaction(cursor, params)
        for table in (contact, conversation, message, SURVEY, RATING):
            cursor.execute(f"ANALYZE {table}")


def _seed_satisfaction(cursor, params: dict) -> None:
    """A survey per resolved conversation; 40% answered, scores spread over 1-5."""
    conversation = Conversation._meta.db_table
    cursor.execute(
        f"""
        INSERT INTO {SURVEY} (id, workspace_id, conversation_id, message_id, agent_id,
                              assistant_id, sent_at, answered_at)
        SELECT md5('survey' || c.id)::uuid, c.workspace_id, c.id, NULL, c.assigned_agent_id,
               c.assigned_assistant_id, c.resolved_at,
               CASE WHEN abs(hashtext(c.id::text)) %% 5 < 2
                    THEN c.resolved_at + interval '5 minutes' END
        FROM {conversation} AS c
        WHERE c.workspace_id = %(workspace)s AND c.status = 'resolved'
        """,
        params,
    )
    cursor.execute(
        f"""
        INSERT INTO {RATING} (id, workspace_id, conversation_id, survey_id, score, comment,
                              agent_id, assistant_id, source, recorded_by_id, created_at,
                              updated_at)
        SELECT gen_random_uuid(), s.workspace_id, s.conversation_id, s.id,
               1 + abs(hashtext(s.id::text)) %% 5, '', s.agent_id, s.assistant_id, 'customer',
               NULL, s.answered_at, s.answered_at
        FROM {SURVEY} AS s
        WHERE s.workspace_id = %(workspace)s AND s.answered_at IS NOT NULL
        """,
        params,
    )


def _time(client: APIClient, endpoint: str, params: dict, repeat: int) -> list[float]:
    url = f"/api/analytics/{endpoint}"
    for _ in range(WARM_UPS):
        assert client.get(url, params).status_code == 200
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, params)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content
    return timings


def _time_export(client: APIClient, params: dict) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get("/api/analytics/export.csv", params)
    lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
    return (time.perf_counter() - started) * 1000, lines - 1


def _explain(client: APIClient, endpoint: str, params: dict) -> None:
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/api/analytics/{endpoint}", params)
    slowest = max(queries.captured_queries, key=lambda query: float(query["time"]))
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {slowest['sql']}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    print(f"\n--- slowest query of {endpoint} ({slowest['time']} s) ---\n{plan}")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN the slowest queries")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/analytics needs PostgreSQL: use bench/analytics/run")

    started = time.perf_counter()
    workspace, admin, agents = _seed_people()
    _seed_rows(workspace, agents, args.conversations)
    seeded = time.perf_counter() - started
    conversations = Conversation.objects.filter(workspace=workspace).count()
    messages = Message.objects.filter(workspace=workspace).count()
    print(f"seeded {conversations:,} conversations, {messages:,} messages in {seeded:.1f} s")

    today = timezone.localdate()
    params = {"from": str(today - timedelta(days=29)), "to": str(today)}
    in_window = Conversation.objects.filter(
        workspace=workspace, created_at__date__gte=today - timedelta(days=29)
    ).count()
    print(f"window {params['from']}..{params['to']}: ~{in_window:,} conversations")

    client = APIClient()
    # A bearer token, as the SPA sends: the real authentication path, and the per-user rate.
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for(admin)['access']}")
    print(f"{'endpoint':<16}{'runs':>6}{'p50 ms':>10}{'p95 ms':>10}")
    for endpoint in ENDPOINTS:
        timings = _time(client, endpoint, params, args.repeat)
        p50, p95 = _percentile(timings, 0.5), _percentile(timings, 0.95)
        print(f"{endpoint:<16}{len(timings):>6}{p50:>10.1f}{p95:>10.1f}")
    exports = [_time_export(client, params) for _ in range(WARM_UPS)]
    print(f"export.csv: {exports[-1][1]:,} rows streamed in {exports[-1][0]:.0f} ms (3rd run)")
    if args.explain:
        for endpoint in ENDPOINTS:
            _explain(client, endpoint, params)


if __name__ == "__main__":
    main()
