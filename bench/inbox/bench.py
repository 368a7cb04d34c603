"""Inbox reads over 100,000 conversations and 1,000,000 messages: list, pages, history, search.

Seeds with the analytics benchmark's seeding (bench/analytics/bench.py: one workspace, 10
agents, raw INSERT ... SELECT), then gives the rows words people write, so search has something
real to find: every message gets a Spanish sentence picked by a hash of its id (common words
like "pedido" in about a third of the messages, accented ones like "envío" and "café", a rare
word in about 1 in 10,000), and every contact a first and last name (with accents) and its
phone number. ANALYZE, then each read goes through DRF's test client with a bearer token, as
the inbox's scripts call the API: 3 warm-ups, ``--repeat`` timed runs, p50/p95 in ms, and the
number of queries of one run.

Reads: the admin's first page (the inbox's default: open conversations, 30 a page), the next
cursor page, an agent's "mine", a conversation's history (50 newest messages), and
``?search=`` for: a word that matches nothing, a rare word, a common word, an accented word with
and without its accent and in capitals, two words, a contact name fragment, a phone fragment;
the no-match and common words again over every status. ``--explain`` prints EXPLAIN (ANALYZE,
BUFFERS) of the slowest query of each search.

Exit status 1 when a read misses its target: search p95 > 100 ms, or the list, next page,
"mine" and history slower than ``--list-target`` ms at p95 or more queries than today's (3, 3,
4, 5).

Usage (PostgreSQL required): bench/inbox/run [--conversations 100000] [--repeat 30] [--explain]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flame.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from accounts.services import tokens_for  # noqa: E402
from bench.analytics.bench import _seed_people, _seed_rows  # noqa: E402
from conversations.models import Contact, Conversation, Message  # noqa: E402

WARM_UPS = 3
SEARCH_TARGET_MS = 100.0
# Queries per read today (8c837d7): what the list, pages, "mine" and history must not exceed.
# The history's fifth query is the page's attachments (one prefetch, whatever the page size).
LIST_QUERIES = {"list, first page": 3, "list, next page": 3, "agent's mine": 4, "history": 5}
OPEN = "active,pending"

# (share of messages in per-mille, words). A message is a greeting + a topic sentence (+ the
# rare word in 1 of 10,000): "pedido" ~33 %, "envío" ~7 %, "café" ~4 %, "tornasol" ~0.01 %.
GREETINGS = ("Hola", "Buenas tardes", "Buenos días", "Qué tal", "Oye", "Disculpe")
TOPICS = (
    "quiero saber dónde está mi pedido",
    "mi pedido no ha llegado todavía",
    "¿cuánto cuesta el envío a Guadalajara?",
    "¿tienen la mesa de café de nogal en tamaño pequeño?",
    "necesito la factura del pedido por favor",
    "¿a qué hora abren el sábado?",
    "gracias, ya me llegó el paquete",
    "quiero cambiar la dirección de entrega",
    "el envío llegó dañado, ¿qué hago?",
    "¿aceptan pago con tarjeta?",
    "¿puedo recoger mi pedido en la tienda?",
    "muchas gracias por la atención",
    "la talla no me quedó, quiero devolverla",
    "¿hay descuento si compro dos?",
    "no encuentro el número de guía",
)
FIRST_NAMES = ("María José", "José", "Juan", "Lucía", "Ángel", "Sofía", "Martín", "Renée", "Íñigo")
LAST_NAMES = ("Peña", "Núñez", "García", "Hernández", "López", "Muñoz", "Gómez", "Ibáñez")
RARE_WORD = "tornasol"


def _array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ",".join("'" + value.replace("'", "''") + "'" for value in values) + "]"


def give_words(workspace_id) -> None:
    """Realistic text in place of the analytics seeding's "Mensaje k" and "Contact g"."""
    message = Message._meta.db_table
    contact = Contact._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {message} SET content =
                ({_array(GREETINGS)})[1 + h %% {len(GREETINGS)}] || ', '
                || ({_array(TOPICS)})[1 + (h / {len(GREETINGS)}) %% {len(TOPICS)}]
                || CASE WHEN h %% 10000 = 7 THEN ' {RARE_WORD}' ELSE '' END
            FROM (SELECT id AS message_id, abs(hashtext(id::text)) AS h
                  FROM {message} WHERE workspace_id = %s) AS hashed
            WHERE id = hashed.message_id
            """,
            [workspace_id],
        )
        cursor.execute(
            f"""
            UPDATE {contact} SET name =
                ({_array(FIRST_NAMES)})[1 + h %% {len(FIRST_NAMES)}] || ' '
                || ({_array(LAST_NAMES)})[1 + (h / {len(FIRST_NAMES)}) %% {len(LAST_NAMES)}]
            FROM (SELECT id AS contact_id, abs(hashtext(id::text)) AS h
                  FROM {contact} WHERE workspace_id = %s) AS hashed
            WHERE id = hashed.contact_id
            """,
            [workspace_id],
        )
        for table in (message, contact, Conversation._meta.db_table):
            cursor.execute(f"VACUUM ANALYZE {table}")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Reader:
    def __init__(self, user, repeat: int) -> None:
        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for(user)['access']}")
        self.repeat = repeat

    def get(self, url: str, params: dict | None = None):
        response = self.client.get(url, params or {})
        assert response.status_code == 200, (url, params, response.content[:300])
        return response

    def time(self, url: str, params: dict | None = None) -> dict:
        for _ in range(WARM_UPS):
            self.get(url, params)
        timings = []
        for _ in range(self.repeat):
            started = time.perf_counter()
            response = self.get(url, params)
            timings.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            response = self.get(url, params)
        data = response.json()
        return {
            "p50": percentile(timings, 0.5),
            "p95": percentile(timings, 0.95),
            "queries": len(queries.captured_queries),
            "rows": len(data.get("results", [])),
            "next": data.get("next"),
            "captured": queries.captured_queries,
        }


def _cursor(next_url: str) -> str:
    return parse_qs(urlsplit(next_url).query)["cursor"][0]


def reads(admin_reader: Reader, agent_reader: Reader, conversation_id) -> list[tuple]:
    """(label, reader, url, params) of every read, in the order they are printed."""
    base = {"status": OPEN, "limit": 30}
    first = admin_reader.get("/api/conversations", base).json()
    page_two = {**base, "cursor": _cursor(first["next"])}
    searches = [
        ("no match", "ornitorrinco"),
        ("rare word", RARE_WORD),
        ("common word", "pedido"),
        ("accented", "envío"),
        ("unaccented", "envio"),
        ("capitals", "ENVÍO"),
        ("two words", "pedido factura"),
        ("name fragment", "ibañ"),
        ("phone fragment", "0012346"),  # +5215500012346, an active conversation
    ]
    rows = [
        ("list, first page", admin_reader, "/api/conversations", base),
        ("list, next page", admin_reader, "/api/conversations", page_two),
        ("agent's mine", agent_reader, "/api/conversations", {**base, "assigned": "me"}),
        ("history", admin_reader, f"/api/conversations/{conversation_id}/messages", {}),
    ]
    rows += [
        (
            f"search: {label} ({word!r})",
            admin_reader,
            "/api/conversations",
            {**base, "search": word},
        )
        for label, word in searches
    ]
    rows += [
        (f"search, any status: {label} ({word!r})", admin_reader, "/api/conversations",
         {"limit": 30, "search": word})
        for label, word in (("no match", "ornitorrinco"), ("common word", "pedido"))
    ]  # fmt: skip
    rows.append(
        ("search, agent: common word ('pedido')", agent_reader, "/api/conversations",
         {**base, "assigned": "me", "search": "pedido"})
    )  # fmt: skip
    return rows


def explain(label: str, captured: list[dict]) -> None:
    slowest = max(captured, key=lambda query: float(query["time"]))
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {slowest['sql']}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    print(f"\n--- {label}: slowest query ({float(slowest['time']) * 1000:.0f} ms) ---")
    print(slowest["sql"])
    print(plan)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the searches")
    parser.add_argument("--list-target", type=float, default=60.0, help="p95 ms of the lists")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/inbox needs PostgreSQL: use bench/inbox/run")

    started = time.perf_counter()
    workspace, admin, agents = _seed_people()
    _seed_rows(workspace, agents, args.conversations)
    give_words(workspace.pk)
    conversations = Conversation.objects.filter(workspace=workspace).count()
    messages = Message.objects.filter(workspace=workspace).count()
    print(
        f"seeded {conversations:,} conversations, {messages:,} messages in "
        f"{time.perf_counter() - started:.0f} s"
    )
    # The seeding gives agent k the conversations g with g % 10 == k: agent 6's are active,
    # so "mine" (open conversations) has rows to show.
    agent = agents[6]
    conversation_id = (
        Conversation.objects.filter(workspace=workspace).order_by("-last_message_at").first().pk
    )
    admin_reader, agent_reader = Reader(admin, args.repeat), Reader(agent, args.repeat)
    print(f"{'read':<52}{'runs':>5}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}{'rows':>6}")
    missed = []
    for label, reader, url, params in reads(admin_reader, agent_reader, conversation_id):
        result = reader.time(url, params)
        print(
            f"{label:<52}{args.repeat:>5}{result['p50']:>9.1f}{result['p95']:>9.1f}"
            f"{result['queries']:>9}{result['rows']:>6}"
        )
        missed += _missed(label, result, args)
        if args.explain and label.startswith("search"):
            explain(label, result["captured"])
    print("targets: " + ("met" if not missed else "MISSED: " + "; ".join(missed)))
    return 1 if missed else 0


def _missed(label: str, result: dict, args) -> list[str]:
    if label.startswith("search") and result["p95"] > SEARCH_TARGET_MS:
        return [f"{label} p95 {result['p95']:.0f} ms > {SEARCH_TARGET_MS:.0f}"]
    if label in LIST_QUERIES:
        wrong = []
        if result["p95"] > args.list_target:
            wrong.append(f"{label} p95 {result['p95']:.0f} ms > {args.list_target:.0f}")
        if result["queries"] > LIST_QUERIES[label]:
            wrong.append(f"{label} {result['queries']} queries > {LIST_QUERIES[label]}")
        return wrong
    return []


if __name__ == "__main__":
    sys.exit(main())
