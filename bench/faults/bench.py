"""Fault benchmark: does every webhook end up in the inbox exactly once while things break?

Everything runs on spare ports against a PostgreSQL cluster and a Redis server of its own
(bench/harness/servers.py), so they can be killed: gunicorn, daphne, one Celery worker (-c 2,
every queue) and beat, started as in production (bench/harness/stack.py).

``--messages`` unique, signed WhatsApp messages are sent open loop at ``--rate``. Like Meta, the
sender retries every non-2xx answer with backoff until it gets a 2xx, and delivers about
``--duplicates`` of the messages a second time after that (half byte-identical, half the same
message id in a re-serialised body). Meanwhile, at fixed times:

1. the Celery worker (leader and pool) gets SIGKILL while it holds claimed events, and is
   restarted ``--down`` seconds later;
2. Redis is killed and restarted empty (no persistence: queued tasks and cache keys are gone);
3. PostgreSQL crashes (``pg_ctl stop -m immediate``) and restarts with crash recovery.

A server that exits on its own is started again, as compose's `restart: unless-stopped` does,
and the report lists it (Celery's worker can exit after Redis goes away: an upstream kombu
error while it restores its unacknowledged messages).

An admin's socket (bench/harness/listener.py) reconnects and catches up from /api/events after
each drop, as the inbox does. At the end it prints what was sent, stored, duplicated and
missing, the longest delay from intended send to stored, the non-2xx answers by fault, how
long the killed worker's claims waited, and how many ``message:new`` each message produced.
Exit status 1 when a message is missing or duplicated, a message has other than one
``message:new``, any answer is a 500 or any non-2xx comes while PostgreSQL is up, or the killed
worker's claims waited longer than ``--claim-target`` seconds.

Usage: bench/faults/run [--messages 2400] [--rate 40] [--down 5] [--max-wait 900]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.harness import whatsapp  # noqa: E402
from bench.harness.http import HttpPool  # noqa: E402
from bench.harness.listener import Listener, Target  # noqa: E402
from bench.harness.servers import PostgresCluster, RedisServer  # noqa: E402
from bench.harness.stack import Stack  # noqa: E402

DATABASE = "flame_bench_faults"


@dataclass
class Sent:
    """One unique message and what happened to its deliveries."""

    n: int
    due_wall: float
    duplicate: str = ""  # "", "identical" or "reserialised"
    accepted: list[float] = field(default_factory=list)  # monotonic times of 2xx answers


@dataclass
class Fault:
    name: str
    started: float  # monotonic
    ended: float = 0.0
    note: str = ""


@dataclass
class Restart:
    """A server that exited on its own and was started again (compose's restart policy)."""

    name: str
    at: float  # monotonic
    exit_code: int | None


# What docker-compose.yml's `restart: unless-stopped` does for the app's services.
SUPERVISED = {"web": "start_web", "ws": "start_ws", "worker": "start_worker", "beat": "start_beat"}


class Scenario:
    def __init__(self, args, stack: Stack, cluster: PostgresCluster, redis: RedisServer) -> None:
        from bench.harness import product

        self.args = args
        self.stack = stack
        self.cluster = cluster
        self.redis = redis
        self.product = product
        self.run_id = uuid.uuid4().hex[:8]
        self.prefix = whatsapp.message_id(self.run_id, 0)[:-1]
        self.pool = HttpPool("127.0.0.1", stack.http_port, timeout=60.0)
        self.rng = random.Random(args.seed)
        self.sent: list[Sent] = []
        self.answers: list[tuple[float, int]] = []  # (monotonic, status) of every POST
        self.faults: list[Fault] = []
        self.claimed_at_kill: dict[str, float] = {}  # message id -> kill time (monotonic)
        self.wall_offset = time.time() - time.monotonic()
        self.restarts: list[Restart] = []
        self.killing = False  # the deliberate kill restarts the worker itself
        self.began = time.monotonic()

    # --- database read-backs that survive a PostgreSQL restart ----------------------------------

    async def read(self, function, *args):
        from django.db import DatabaseError, connection

        for _attempt in range(60):
            try:
                return await asyncio.to_thread(_in_fresh_connection, function, *args)
            except DatabaseError:
                await asyncio.to_thread(connection.close)
                await asyncio.sleep(1.0)
        raise SystemExit("the database did not come back")

    # --- sending ----------------------------------------------------------------------------------

    def body(self, n: int, *, reserialised: bool = False) -> bytes:
        raw = whatsapp.body(self.run_id, n, customers=self.args.customers, seed=self.args.seed)
        if reserialised:  # the same message id in different bytes: a new body hash
            raw = whatsapp.body(
                self.run_id,
                n,
                customers=self.args.customers,
                seed=self.args.seed,
                timestamp=1789482605 + n // 100 + 1,
            )
        return raw

    async def deliver(self, raw: bytes, sent: Sent) -> None:
        """POST until a 2xx, backing off like a platform does (1 s, doubling, at most 30 s)."""
        delay, started = 1.0, time.monotonic()
        while True:
            status = await self.pool.request(whatsapp.signed_request(raw))
            self.answers.append((time.monotonic(), status))
            if 200 <= status < 300:
                sent.accepted.append(time.monotonic())
                return
            if time.monotonic() - started > self.args.give_up:
                return
            await asyncio.sleep(delay * self.rng.uniform(0.8, 1.2))
            delay = min(delay * 2, 30.0)

    async def one(self, sent: Sent) -> None:
        await self.deliver(self.body(sent.n), sent)
        if sent.duplicate and sent.accepted:
            await asyncio.sleep(self.rng.uniform(0.5, 20.0))
            raw = self.body(sent.n, reserialised=sent.duplicate == "reserialised")
            await self.deliver(raw, sent)

    async def send_all(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.5
        tasks = []
        for n in range(self.args.messages):
            due = start + n / self.args.rate
            duplicate = ""
            if self.rng.random() < self.args.duplicates:
                duplicate = "identical" if n % 2 else "reserialised"
            sent = Sent(n, due + self.wall_offset, duplicate)
            self.sent.append(sent)
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.one(sent)))
        await asyncio.gather(*tasks)

    # --- faults -----------------------------------------------------------------------------------

    async def inject(self) -> None:
        begin = time.monotonic()
        for at, action in (
            (self.args.kill_at, self.kill_worker),
            (self.args.redis_at, self.restart_redis),
            (self.args.postgres_at, self.crash_postgres),
        ):
            await asyncio.sleep(max(0.0, begin + at - time.monotonic()))
            await action()

    async def kill_worker(self) -> None:
        # Wait (up to 10 s) for the worker to hold a claim: that is the case to recover from.
        for _ in range(500):
            if await self.read(self.product.processing_count):
                break
            await asyncio.sleep(0.02)
        fault = Fault("worker SIGKILL", time.monotonic())
        self.faults.append(fault)
        self.killing = True
        await asyncio.to_thread(self.stack.kill, "worker")
        orphans = await self.read(self.product.processing_message_ids)
        self.claimed_at_kill = dict.fromkeys(orphans, fault.started)
        fault.note = f"{len(orphans)} messages were in events it had claimed"
        await asyncio.sleep(self.args.down)
        await asyncio.to_thread(self.stack.start_worker)
        self.killing = False
        fault.ended = time.monotonic()

    async def supervise(self, done: asyncio.Event) -> None:
        """Start again a server that exits on its own, as compose's `restart: unless-stopped`
        does in a deployment (Celery's worker exits on some broker failures: an upstream kombu
        error while it restores unacknowledged messages after Redis went away). Reported."""
        while not done.is_set():
            for name, start in SUPERVISED.items():
                process = self.stack.processes.get(name)
                if self.killing or process is None or process.poll() is None:
                    continue
                self.restarts.append(Restart(name, time.monotonic(), process.returncode))
                await asyncio.to_thread(getattr(self.stack, start))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 0.5)

    async def restart_redis(self) -> None:
        fault = Fault("Redis restarted empty", time.monotonic())
        self.faults.append(fault)
        await asyncio.to_thread(self.redis.kill)
        await asyncio.sleep(self.args.down)
        await asyncio.to_thread(self.redis.start)
        fault.ended = time.monotonic()

    async def crash_postgres(self) -> None:
        fault = Fault("PostgreSQL crash", time.monotonic())
        self.faults.append(fault)
        await asyncio.to_thread(self.cluster.crash)
        await asyncio.sleep(self.args.down)
        await asyncio.to_thread(self.cluster.start)
        fault.ended = time.monotonic()

    # --- waiting and reporting --------------------------------------------------------------------

    async def wait_stored(self) -> dict[str, dict]:
        started = last_print = time.monotonic()
        while True:
            stored = await self.read(self.product.stored_messages, self.prefix)
            pending = await self.read(self.product.pending_work)
            if len(stored) >= len(self.sent) and not pending["webhook_events"]:
                return stored
            now = time.monotonic()
            if now - started > self.args.max_wait:
                print(f"  gave up waiting after {self.args.max_wait:.0f} s")
                return stored
            if now - last_print >= 30:
                last_print = now
                print(
                    f"  {now - started:4.0f} s after the last 2xx: {len(stored)}/{len(self.sent)} "
                    f"stored, owed {pending}"
                )
            await asyncio.sleep(2.0)

    async def run(self, listener: Listener) -> int:
        done = asyncio.Event()
        supervisor = asyncio.create_task(self.supervise(done))
        injector = asyncio.create_task(self.inject())
        await self.send_all()
        await injector
        print(f"all {len(self.sent)} messages accepted or given up; waiting for them to be stored")
        stored = await self.wait_stored()
        done.set()
        await supervisor
        await asyncio.sleep(3.0)  # the last commits' events reach the socket
        socket = await asyncio.to_thread(_all_records, listener)
        outbox = await self.read(self.product.message_new_events, self.prefix)
        return self.report(stored, socket, outbox)

    def report(self, stored: dict, socket: dict, outbox: dict[str, int]) -> int:
        ids = [whatsapp.message_id(self.run_id, s.n) for s in self.sent]
        never_accepted = [s for s in self.sent if not s.accepted]
        missing = [i for i in ids if i not in stored]
        duplicated = [i for i in ids if stored.get(i, {}).get("rows", 0) > 1]
        delays = {
            message_id: stored[message_id]["first"] - sent.due_wall
            for message_id, sent in zip(ids, self.sent, strict=True)
            if message_id in stored
        }
        longest = max(delays.items(), key=lambda item: item[1], default=("-", 0.0))
        duplicates = Counter(s.duplicate for s in self.sent if s.duplicate and len(s.accepted) > 1)
        posts = len(self.answers)
        print(f"\nsent: {len(self.sent)} unique messages in {posts} POSTs")
        print(
            f"      {sum(len(s.accepted) for s in self.sent)} deliveries answered 2xx, of which "
            f"{sum(duplicates.values())} second deliveries ({duplicates['identical']} identical "
            f"bytes, {duplicates['reserialised']} same message id re-serialised); "
            f"never accepted: {len(never_accepted)}"
        )
        print(
            f"stored: {len(stored)}   duplicated: {len(duplicated)}   missing: {len(missing)}"
            + (f" (e.g. {missing[:3]})" if missing else "")
        )
        over = sum(1 for delay in delays.values() if delay > 60)
        print(
            f"longest delay, intended send -> stored: {longest[1]:.1f} s ({longest[0]}); "
            f"{over} messages over 60 s"
        )
        claim_wait = self._claim_wait(stored)
        self._print_restarts()
        failed = self._print_answers()
        print_server_errors(Path(self.args.log_dir) / "web.log")
        events_ok = self._print_events(ids, socket, outbox)
        targets = {
            "nothing missing": not missing,
            "nothing duplicated": not duplicated,
            "exactly one message:new per message": events_ok,
            "no 500, and non-2xx only while PostgreSQL is down": not failed,
            f"killed worker's claims taken over within {self.args.claim_target:.0f} s": (
                claim_wait <= self.args.claim_target
            ),
        }
        for name, ok in targets.items():
            print(f"  {'ok  ' if ok else 'FAIL'} {name}")
        self._save(stored, delays, claim_wait, targets)
        return 0 if all(targets.values()) else 1

    def _print_restarts(self) -> None:
        restarts = [
            f"{r.name} (exit code {r.exit_code}) {r.at - self.began:.1f} s into the run"
            for r in self.restarts
        ]
        print(f"servers that exited on their own and were started again: {restarts or 'none'}")

    def _claim_wait(self, stored: dict) -> float:
        waits = [
            stored[message_id]["first"] - (killed + self.wall_offset)
            for message_id, killed in self.claimed_at_kill.items()
            if message_id in stored
        ]
        unstored = len(self.claimed_at_kill) - len(waits)
        wait = max(waits, default=0.0) if not unstored else float("inf")
        print(
            f"claims held by the killed worker: {len(self.claimed_at_kill)} messages, stored "
            f"{wait:.1f} s after the kill at the latest"
            + (f" ({unstored} never)" if unstored else "")
        )
        return wait

    def _window(self, at: float) -> str:
        """The fault an answer belongs to: the latest one started by then, for 10 s after it
        ended (the grace of one fault may reach into the next one's start)."""
        for fault in reversed(self.faults):
            if fault.started <= at <= (fault.ended or at) + 10.0:
                return fault.name
        return "no fault"

    def _print_answers(self) -> bool:
        by_window: dict[str, Counter] = {}
        for at, status in self.answers:
            if not 200 <= status < 300:
                by_window.setdefault(self._window(at), Counter())[status] += 1
        codes = Counter(status for _at, status in self.answers if not 200 <= status < 300)
        print(f"non-2xx answers: {dict(codes) or 'none'} (598: timed out, 599: no answer)")
        for fault in self.faults:
            length = (fault.ended or fault.started) - fault.started
            print(
                f"  {fault.name} ({length:.1f} s{'; ' + fault.note if fault.note else ''}): "
                f"{dict(by_window.get(fault.name, {})) or 'all 2xx'}"
            )
        if "no fault" in by_window:
            print(f"  outside any fault window: {dict(by_window['no fault'])}")
        wrong = codes.get(500, 0) + sum(
            n
            for window, counter in by_window.items()
            if window != "PostgreSQL crash"
            for n in counter.values()
        )
        return wrong > 0

    def _print_events(self, ids: list[str], socket: dict, outbox: dict[str, int]) -> bool:
        per_socket = Counter(socket["events"].get(i, 0) for i in ids)
        per_outbox = Counter(outbox.get(i, 0) for i in ids)
        sources = Counter(socket["sources"].values())
        print(
            f"message:new per message, socket (live + catch-up): exactly one {per_socket[1]}, "
            f"none {per_socket[0]}, more {sum(n for k, n in per_socket.items() if k > 1)}; "
            f"arrived live {sources['live']}, by catch-up after a reconnect or at the end "
            f"{sources['catchup']}; socket drops {len(socket['drops'])}"
        )
        print(
            f"message:new outbox rows per message: exactly one {per_outbox[1]}, none "
            f"{per_outbox[0]}, more {sum(n for k, n in per_outbox.items() if k > 1)}"
        )
        return per_socket[1] == len(ids) and per_outbox[1] == len(ids)

    def _save(self, stored, delays, claim_wait, targets) -> None:
        path = Path(self.args.log_dir) / "results.json"
        path.write_text(
            json.dumps(
                {
                    "args": vars(self.args),
                    "sent": len(self.sent),
                    "stored": len(stored),
                    "longest_delay_s": max(delays.values(), default=0.0),
                    "claim_wait_s": claim_wait,
                    "answers": dict(Counter(status for _at, status in self.answers)),
                    "faults": [vars(fault) for fault in self.faults],
                    "restarts": [vars(restart) for restart in self.restarts],
                    "targets": targets,
                },
                indent=2,
                default=str,
            )
        )
        print(f"results: {path}")


PRODUCT_FRAME = re.compile(
    r'File "[^"]*/((?:flame|integrations|conversations|assistants|accounts|analytics)/[\w/]+\.py)"'
    r", line \d+, in (\w+)"
)


def print_server_errors(log: Path) -> None:
    """Where the 5xx answers came from: the server's error records (JSON lines), grouped by
    path, the innermost product function on the stack, and the exception's last line."""
    found: Counter = Counter()
    for line in log.read_text(errors="replace").splitlines():
        if not line.startswith("{") or '"status_code": 5' not in line:
            continue
        record = json.loads(line)
        trace = record.get("exception") or ""
        frames = PRODUCT_FRAME.findall(trace)
        where = f"{frames[-1][1]} ({frames[-1][0]})" if frames else "-"
        last = trace.strip().splitlines()[-1].strip()[:110] if trace.strip() else ""
        path = record.get("message", "").rpartition(": ")[2]
        found[(record.get("status_code"), path, where, last)] += 1
    if found:
        print("5xx answers logged by the server (status, path, innermost product frame, error):")
    for (status, path, where, last), count in found.most_common(8):
        print(f"  {count:5} x {status} {path} in {where}: {last}")


def _in_fresh_connection(function, *args):
    from django.db import connection

    try:
        return function(*args)
    finally:
        connection.close()  # read-backs are rare: never keep a connection a crash could break


def _all_records(listener: Listener) -> dict:
    """Every message:new the socket saw, after a last catch-up as a reconnecting client does."""
    reply = listener.catch_up()
    events: dict[str, set] = {}
    sources: dict[int, str] = {}
    for external_id, event_id, _at, source, _sender in reply["records"]:
        events.setdefault(external_id, set()).add(event_id)
        sources[event_id] = source
    return {
        "events": {key: len(value) for key, value in events.items()},
        "sources": sources,
        "drops": reply["drops"],
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2400)
    parser.add_argument("--rate", type=float, default=40.0, help="new messages per second")
    parser.add_argument("--duplicates", type=float, default=0.1, help="share delivered twice")
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--kill-at", type=float, default=10.0, help="seconds after the start")
    parser.add_argument("--redis-at", type=float, default=25.0)
    parser.add_argument("--postgres-at", type=float, default=40.0)
    parser.add_argument("--down", type=float, default=5.0, help="seconds each fault lasts")
    parser.add_argument("--give-up", type=float, default=600.0, help="a sender's retry limit")
    parser.add_argument("--max-wait", type=float, default=900.0, help="for the last messages")
    parser.add_argument("--claim-target", type=float, default=60.0)
    parser.add_argument("--pg-port", type=int, default=55432)
    parser.add_argument("--redis-port", type=int, default=56379)
    parser.add_argument("--keep", action="store_true", help="keep the cluster and logs")
    parser.add_argument("--log-dir", default=str(ROOT / "var" / "bench" / "faults"))
    args = parser.parse_args()
    args.log_dir = str(Path(args.log_dir) / time.strftime("%Y%m%d-%H%M%S"))
    return args


def setup_servers(args, workdir: Path) -> tuple[PostgresCluster, RedisServer]:
    cluster = PostgresCluster(workdir / "postgres", args.pg_port)
    redis = RedisServer(workdir / "redis", args.redis_port)
    cluster.create()
    cluster.start()
    cluster.createdb(DATABASE)
    redis.start()
    os.environ.update(
        DATABASE_URL=cluster.url(DATABASE),
        REDIS_URL=redis.url,
        DJANGO_SETTINGS_MODULE="flame.settings",
        PYTHONPATH=str(ROOT),
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    return cluster, redis


def main() -> int:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="flame-faults-"))
    cluster = redis = stack = None
    try:
        cluster, redis = setup_servers(args, workdir)
        product_env = dict(os.environ)
        os.environ["LOG_LEVEL"] = "WARNING"  # this process only; the servers log as in production
        import django

        django.setup()
        from bench.harness import product

        fixture = product.seed(assistant_mode="off-duty")
        stack = Stack(env=product_env, log_dir=Path(args.log_dir))
        stack.start_all()
        print(
            f"own PostgreSQL :{args.pg_port}, own Redis :{args.redis_port}; gunicorn "
            f":{stack.http_port}, daphne :{stack.ws_port}, celery -c 2, beat; logs in "
            f"{args.log_dir}\nsending {args.messages} messages at {args.rate:.0f}/s; worker "
            f"SIGKILL at {args.kill_at:.0f} s, Redis restart at {args.redis_at:.0f} s, PostgreSQL "
            f"crash at {args.postgres_at:.0f} s, each down {args.down:.0f} s"
        )
        return asyncio.run(_run(args, stack, cluster, redis, fixture, product))
    finally:
        if stack is not None:
            stack.stop_all()
        if redis is not None:
            redis.kill()
        if cluster is not None:
            cluster.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


async def _run(args, stack, cluster, redis, fixture, product) -> int:
    scenario = Scenario(args, stack, cluster, redis)
    listener = Listener(
        Target(
            host="127.0.0.1",
            http_port=stack.http_port,
            ws_port=stack.ws_port,
            email=fixture.admin_email,
            password=fixture.admin_password,
            after=await scenario.read(product.last_event_id),
        )
    )
    listener.start()
    try:
        return await scenario.run(listener)
    finally:
        listener.stop()
        scenario.pool.close()


if __name__ == "__main__":
    sys.exit(main())
