"""WebSocket fan-out benchmark: commit-to-client latency of FLAME's /ws/ against a bare floor.

For each socket count it starts two daphne processes on the same channels-redis layer:
- floor: bench/websockets/bare_asgi.py, events sent with a bare group_send;
- flame: flame.asgi, events produced the production way, by committing agent messages through
  ``message_send_agent`` (outbox row, on-commit publish to the workspace admins' group).
Latency is measured from the commit (an on-commit hook registered before the service's own) to
the moment each client reads the event. Publisher and clients share this 2-core machine with the
servers: the numbers are the co-located worst case, the same for both sides.

Usage (PostgreSQL and Redis required): bench/websockets/run [--sockets 100,300] [--rate 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flame.settings")

import django  # noqa: E402

django.setup()

import websockets  # noqa: E402
from asgiref.sync import async_to_sync  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from accounts.models import User, Workspace  # noqa: E402
from accounts.services import tokens_for  # noqa: E402
from conversations import services  # noqa: E402
from conversations.models import Contact, Conversation  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_daphne(app: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "LOG_TO_FILES": "0", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), app],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(150):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"daphne {app} did not start")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def open_sockets(url: str, protocols: list) -> list:
    async def one(subprotocols):
        return await websockets.connect(
            url,
            subprotocols=subprotocols,
            origin="http://127.0.0.1:8000",
            open_timeout=60,
            max_queue=None,
        )

    sockets = []
    for start in range(0, len(protocols), 50):  # connect in waves of 50
        sockets += await asyncio.gather(*(one(p) for p in protocols[start : start + 50]))
    return sockets


async def read_events(
    sock, latencies: list[float], stamps: dict, wanted, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        try:
            raw = await asyncio.wait_for(sock.recv(), 0.5)
        except TimeoutError:
            continue
        except websockets.ConnectionClosed:
            return
        received = time.time()
        key = wanted(json.loads(raw))
        if key is not None and key in stamps:
            latencies.append((received - stamps[key]) * 1000)


async def measure(url, protocols: list, publish, wanted, events: int, rate: float) -> dict:
    count = len(protocols)
    sockets = await open_sockets(url, protocols)
    await asyncio.sleep(1.0)
    latencies: list[float] = []
    stamps: dict = {}
    stop = asyncio.Event()
    readers = [
        asyncio.create_task(read_events(s, latencies, stamps, wanted, stop)) for s in sockets
    ]
    thread = threading.Thread(target=publish, args=(stamps, events, rate))
    thread.start()
    await asyncio.to_thread(thread.join)
    deadline = time.time() + 10
    while len(latencies) < events * count and time.time() < deadline:
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.gather(*readers)
    await asyncio.gather(*(s.close() for s in sockets))
    return {
        "sockets": count,
        "delivered": len(latencies),
        "expected": events * count,
        "p50": percentile(latencies, 0.50) if latencies else float("nan"),
        "p99": percentile(latencies, 0.99) if latencies else float("nan"),
        "mean": statistics.fmean(latencies) if latencies else float("nan"),
    }


def publish_bare(stamps: dict, events: int, rate: float) -> None:
    layer = get_channel_layer()
    for n in range(events):
        stamps[n] = time.time()
        async_to_sync(layer.group_send)("bench.bare", {"type": "bench.event", "event": {"n": n}})
        time.sleep(1 / rate)


def bench_fixture() -> tuple[User, Conversation, list[str]]:
    workspace, _ = Workspace.objects.get_or_create(
        name="Bench workspace", defaults={"plan": "business"}
    )
    admins = []
    for n in range(10):
        user = User.objects.filter(
            email=f"bench{n}@bench.example"
        ).first() or User.objects.create_user(
            email=f"bench{n}@bench.example",
            password=None,
            name=f"Bench {n}",
            role="admin",
            workspace=workspace,
        )
        admins.append(user)
    contact = Contact.objects.create(workspace=workspace, name="Bench customer")
    conversation = Conversation.objects.create(
        workspace=workspace, contact=contact, platform="sandbox"
    )
    return admins[0], conversation, [tokens_for(admin)["access"] for admin in admins]


def publisher_flame(admin: User, conversation: Conversation):
    def publish(stamps: dict, events: int, rate: float) -> None:
        for n in range(events):
            key = f"bench-{time.time_ns()}-{n}"
            with transaction.atomic():
                # Registered before the service's own hook, so it runs first at commit.
                transaction.on_commit(lambda key=key: stamps.__setitem__(key, time.time()))
                services.message_send_agent(
                    by=admin, conversation=conversation, draft=services.OutboundDraft(content=key)
                )
            time.sleep(1 / rate)
        connection.close()

    return publish


def flame_wanted(event: dict):
    if event.get("type") == "message:new":
        return event["data"]["message"]["content"]
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", default="100,300")
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--events", type=int, default=50)
    args = parser.parse_args()
    from django.conf import settings

    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        raise SystemExit("needs DATABASE_URL (PostgreSQL) and REDIS_URL")
    admin, conversation, tokens = bench_fixture()
    rows = []
    for count in (int(n) for n in args.sockets.split(",")):
        floor = run_side(
            "bench.websockets.bare_asgi:application",
            [None] * count,
            publish_bare,
            lambda event: event.get("n"),
            args,
        )
        # Sockets spread over ten admins' tokens; all of them sit in the admins' group.
        protocols = [["flame.jwt", tokens[n % len(tokens)]] for n in range(count)]
        ours = run_side(
            "flame.asgi:application",
            protocols,
            publisher_flame(admin, conversation),
            flame_wanted,
            args,
        )
        rows.append((count, floor, ours))
    print_report(rows, args)


def run_side(app: str, protocols: list, publish, wanted, args) -> dict:
    port = free_port()
    server = start_daphne(app, port)
    try:
        return asyncio.run(
            measure(
                f"ws://127.0.0.1:{port}/ws/", protocols, publish, wanted, args.events, args.rate
            )
        )
    finally:
        server.terminate()
        server.wait()


def print_report(rows, args) -> None:
    print(f"\nWebSocket fan-out, {args.events} events at {args.rate}/s, commit → client (ms)")
    print(
        f"{'sockets':>8} {'floor p50':>10} {'floor p99':>10} {'flame p50':>10} {'flame p99':>10} "
        f"{'p99 ratio':>10} {'delivered':>12}"
    )
    for count, floor, ours in rows:
        ratio = ours["p99"] / floor["p99"] if floor["p99"] else float("nan")
        print(
            f"{count:>8} {floor['p50']:>10.1f} {floor['p99']:>10.1f} {ours['p50']:>10.1f} "
            f"{ours['p99']:>10.1f} {ratio:>10.2f} {ours['delivered']:>6}/{ours['expected']}"
        )


if __name__ == "__main__":
    main()
