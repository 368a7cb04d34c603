"""Webhook benchmark on the production serving setup: gunicorn + PostgreSQL + Redis + Celery.

Prints, each next to its floor measured in the same run on the same server:
1. ack throughput (closed loop, keep-alive clients): a do-nothing view, a one-INSERT view, and
   ``POST /api/webhooks/whatsapp`` (HMAC check + WebhookEvent INSERT + enqueue);
2. ack latency p50/p99 at a constant 200 req/s (open loop: latency counts from the scheduled
   send time, so a stall cannot hide behind a slow client);
3. end-to-end ingestion: WhatsApp messages per second from the first POST until every message is
   committed by the Celery worker, next to a raw batched INSERT of the same number of messages.

The load generator runs on the same two cores as the server (co-located worst case).
Usage: bench/webhooks/run [--seconds 10] [--messages 3000]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.webhooks.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Workspace  # noqa: E402
from conversations.models import Contact, Conversation, Message  # noqa: E402
from integrations.models import Integration, WebhookEvent  # noqa: E402

APP_SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "100200300400500"
PORT = int(os.environ.get("BENCH_PORT", "8931"))


# --- fixtures and servers ------------------------------------------------------------------------


def prepare() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_floor_insert (id bigserial primary key, body bytea)"
        )
    workspace, _ = Workspace.objects.get_or_create(
        name="Webhook bench", defaults={"plan": "business"}
    )
    Integration.objects.get_or_create(
        platform="whatsapp",
        external_account_id=PHONE_NUMBER_ID,
        defaults={
            "workspace": workspace,
            "name": "Bench WhatsApp",
            "status": "active",
            "credentials": {
                "access_token": "x",
                "phone_number_id": PHONE_NUMBER_ID,
                "app_secret": APP_SECRET,
            },
        },
    )


def start(command: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def start_gunicorn() -> subprocess.Popen:
    server = start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "flame.wsgi:application",
            "-b",
            f"127.0.0.1:{PORT}",
            "-w",
            "2",
            "--threads",
            "4",
            "-k",
            "gthread",
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ]
    )
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
            conn.request("GET", "/bench/noop")
            conn.getresponse().read()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def start_worker() -> subprocess.Popen:
    return start(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "flame",
            "worker",
            "-Q",
            "ingest,outbound,ai,default",
            "-c",
            "2",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "WARNING",
        ]
    )


# --- request bodies ----------------------------------------------------------------------------


def whatsapp_body(n: int, batch: str) -> bytes:
    message_id = f"wamid.bench.{batch}.{n}"
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550000000",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [
                                {
                                    "profile": {"name": f"Cliente {n % 500}"},
                                    "wa_id": f"52155{n % 500:08d}",
                                }
                            ],
                            "messages": [
                                {
                                    "from": f"52155{n % 500:08d}",
                                    "id": message_id,
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": f"Hola, pedido n\u00famero {n}"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload).replace("/", "\\/").encode()


def signed(body: bytes) -> dict[str, str]:
    signature = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"}


# --- load generation ---------------------------------------------------------------------------

_local = threading.local()


def _post(path: str, body: bytes, headers: dict[str, str]) -> int:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        _local.conn = None
        conn.close()
        return 599


def closed_loop(
    path: str, requests: list[tuple[bytes, dict]], seconds: float, clients: int = 16
) -> dict:
    """As fast as ``clients`` keep-alive connections can go, for ``seconds``."""
    stop = time.monotonic() + seconds
    counter = iter(range(10**9))
    statuses: list[int] = []
    lock = threading.Lock()

    def run() -> None:
        while time.monotonic() < stop:
            body, headers = requests[next(counter) % len(requests)]
            status = _post(path, body, headers)
            with lock:
                statuses.append(status)

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        for _ in range(clients):
            pool.submit(run)
    elapsed = time.monotonic() - started
    return {"rps": len(statuses) / elapsed, "errors": sum(1 for s in statuses if s >= 300)}


def open_loop(path: str, requests: list[tuple[bytes, dict]], rate: float, seconds: float) -> dict:
    """Send at a constant ``rate``; latency counts from when each request was due."""
    total = int(rate * seconds)
    begin = time.monotonic() + 0.2
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        due = begin + n / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        body, headers = requests[n % len(requests)]
        status = _post(path, body, headers)
        with lock:
            latencies.append((time.monotonic() - due) * 1000)
            statuses.append(status)

    with ThreadPoolExecutor(64) as pool:
        list(pool.map(one, range(total)))
    ordered = sorted(latencies)
    return {
        "p50": ordered[len(ordered) // 2],
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "errors": sum(1 for s in statuses if s >= 300),
    }


# --- ingestion ----------------------------------------------------------------------------------


def post_all(count: int) -> tuple[str, list[int]]:
    batch = uuid.uuid4().hex[:8]
    bodies = [whatsapp_body(n, batch) for n in range(count)]
    requests = [(body, signed(body)) for body in bodies]
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda r: _post("/api/webhooks/whatsapp", *r), requests))
    return f"wamid.bench.{batch}.", statuses


def wait_committed(prefix: str, count: int) -> int:
    deadline = time.monotonic() + 600
    done = 0
    while time.monotonic() < deadline:
        done = Message.objects.filter(external_id__startswith=prefix).count()
        if done >= count:
            break
        time.sleep(0.1)
    return done


def drain(count: int) -> dict:
    """Worker throughput alone: the events are stored first, then a worker starts on them."""
    prefix, _statuses = post_all(count)
    worker = start_worker()
    try:
        # Time from the first committed message, so worker start-up is not counted.
        first = wait_committed(prefix, 1)
        started = time.monotonic()
        done = wait_committed(prefix, count)
        elapsed = time.monotonic() - started
    finally:
        worker.terminate()
        worker.wait()
    return {"messages": done, "seconds": elapsed, "rate": (done - first) / elapsed}


def ingestion(count: int) -> dict:
    started = time.monotonic()
    prefix, statuses = post_all(count)
    acked = time.monotonic() - started
    done = wait_committed(prefix, count)
    elapsed = time.monotonic() - started
    return {
        "messages": done,
        "seconds": elapsed,
        "rate": done / elapsed,
        "acked_in": acked,
        "errors": sum(1 for s in statuses if s >= 300),
    }


def raw_batched_insert(count: int) -> dict:
    integration = Integration.objects.get(external_account_id=PHONE_NUMBER_ID)
    contact = Contact.objects.create(workspace_id=integration.workspace_id, name="Floor")
    conversation = Conversation.objects.create(
        workspace_id=integration.workspace_id, contact=contact, platform="whatsapp"
    )
    rows = [
        Message(
            conversation=conversation,
            workspace_id=integration.workspace_id,
            integration=integration,
            sender="user",
            content=f"Hola, pedido número {n}",
            external_id=f"floor.{uuid.uuid4().hex}",
            status="delivered",
            created_at=timezone.now(),
        )
        for n in range(count)
    ]
    started = time.monotonic()
    Message.objects.bulk_create(rows, batch_size=500)
    elapsed = time.monotonic() - started
    return {"rate": count / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--messages", type=int, default=3000)
    args = parser.parse_args()
    prepare()
    bodies = [whatsapp_body(n, "ack") for n in range(2000)]
    webhook_requests = [(body, signed(body)) for body in bodies]
    plain = [(b'{"object": "noop"}', {"Content-Type": "application/json"})]
    server = start_gunicorn()
    try:
        noop = closed_loop("/bench/noop", plain, args.seconds)
        insert = closed_loop("/bench/insert", plain, args.seconds)
        ack = closed_loop("/api/webhooks/whatsapp", webhook_requests, args.seconds)
        WebhookEvent.objects.all().delete()
        latency_bodies = [whatsapp_body(n, "lat") for n in range(int(200 * args.seconds))]
        latency = open_loop(
            "/api/webhooks/whatsapp", [(b, signed(b)) for b in latency_bodies], 200, args.seconds
        )
        WebhookEvent.objects.all().delete()
        drained = drain(args.messages)
        worker = start_worker()
        try:
            time.sleep(3)
            ingest = ingestion(args.messages)
        finally:
            worker.terminate()
            worker.wait()
    finally:
        server.terminate()
        server.wait()
    floor = raw_batched_insert(args.messages)
    report(noop, insert, ack, latency, ingest, drained, floor, args)


def report(noop, insert, ack, latency, ingest, drained, floor, args) -> None:
    print(
        "\nWebhook ack (gunicorn 2 workers x 4 threads, "
        f"{args.seconds:.0f}s closed loop, 16 keep-alive clients)"
    )
    print(f"  do-nothing view floor   {noop['rps']:8.0f} req/s   errors {noop['errors']}")
    print(f"  one-INSERT view floor   {insert['rps']:8.0f} req/s   errors {insert['errors']}")
    print(
        f"  POST /api/webhooks/whatsapp {ack['rps']:6.0f} req/s   errors {ack['errors']}"
        f"   ({ack['rps'] / insert['rps']:.2f}x the one-INSERT floor; target >= 0.5x)"
    )
    print(
        f"\nWebhook ack latency at 200 req/s (open loop): p50 {latency['p50']:.1f} ms, "
        f"p99 {latency['p99']:.1f} ms, errors {latency['errors']} (target p99 <= 100 ms)"
    )
    print(f"\nIngestion, {args.messages} WhatsApp messages, POST -> committed (Celery worker -c 2)")
    print(
        f"  end to end              {ingest['rate']:8.0f} msg/s   "
        f"({ingest['messages']} in {ingest['seconds']:.1f}s; "
        f"all acked in {ingest['acked_in']:.1f}s; errors {ingest['errors']}; target >= 300)"
    )
    print(
        f"  worker alone (stored first) {drained['rate']:5.0f} msg/s   "
        f"({drained['messages']} committed, {drained['seconds']:.1f}s after the first)"
    )
    print(f"  raw batched INSERT floor {floor['rate']:7.0f} msg/s")


if __name__ == "__main__":
    main()
