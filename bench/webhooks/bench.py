"""Webhook → inbox benchmark, measured the way the product runs, with its floor beside it.

The stack (bench/harness/stack.py): gunicorn flame.wsgi (2 workers x 4 threads, gthread), daphne
for /ws/, one Celery worker (-c 2, every queue, at web's CPU weight as in compose), Celery
beat, PostgreSQL (a cluster of the bench's own, PostgreSQL's defaults) and Redis, and this load
generator, all on the same machine. gunicorn also serves a floor: a bare Django view that
inserts one row (bench/webhooks/urls.py), mounted only in this benchmark's URLconf.

Every webhook is a unique, correctly signed WhatsApp message. An admin's socket (a child
process, bench/harness/listener.py) timestamps every ``message:new``.

1. Open loop at each ``--rates`` value: the floor at that rate, then the webhooks at that rate.
   Latency counts from each request's intended send time, for the ack and for POST → WebSocket.
2. Closed loop, 16 connections: the floor, then the webhooks while the worker drains; ack req/s
   against the floor's, and the rate at which messages are committed.
3. Search for the highest rate at which POST → WebSocket p99 <= 1 s, ack p99 <= 5x the floor's
   p99 at that rate, and every message is stored.

Before each floor the stack is left to go quiet (no webhook events or reply jobs pending, the
worker idle), so each figure is measured from the same state. Exit status 1 when a target of
the issue is missed (highest rate < --target-rate, closed-loop ack < 0.6x the floor) or a
message was lost.

Usage: bench/webhooks/run [--rates 20,100,200] [--seconds 30] [--customers 5000]
       [--assistant off-duty|replying|none] [--no-search] [--profile 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.webhooks.settings")
# This process's own few queries (read-backs between phases) may run on the event loop's thread.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
# The servers log at the product's level; this process only says what went wrong.
PRODUCT_LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
os.environ["LOG_LEVEL"] = "WARNING"

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from bench.harness import product, whatsapp  # noqa: E402
from bench.harness.cpu import CORES, CpuMeter, describe  # noqa: E402
from bench.harness.http import HttpPool, Request, Result, closed_loop, open_loop  # noqa: E402
from bench.harness.listener import Listener, Target  # noqa: E402
from bench.harness.stack import Stack, free_port  # noqa: E402

WS_P99_TARGET_MS = 1000.0
ACK_FACTOR_TARGET = 5.0
CLOSED_LOOP_TARGET = 0.6
CLOSED_LOOP_CLIENTS = 16
# Webhooks signed before the closed loop starts, per second of it (more than this machine acks).
CLOSED_LOOP_PREBUILT_PER_SECOND = 1500
FLOOR_PATH = "/bench/insert"
PROCESS_PATH = "/bench/process"


@dataclass
class ClosedPhase:
    results: list[Result]
    cpu: dict[str, float]
    shares: str  # how gunicorn's processes shared the CPU, and their connections
    started: float
    ended: float
    at_end: Any  # what ``sent`` returned the moment sending ended, before the meter stopped


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def ms(value: float) -> str:
    if math.isinf(value):
        return "never"
    if math.isnan(value):
        return "-"
    return (
        f"{value / 1000:.1f} s"
        if value >= 10_000
        else f"{value:.0f} ms"
        if value >= 100
        else f"{value:.1f} ms"
    )


def non_2xx(results: list[Result]) -> dict[int, int]:
    return dict(Counter(r.status for r in results if not 200 <= r.status < 300))


@dataclass
class Trial:
    rate: float
    seconds: float
    floor: list[Result]
    ack: list[Result]
    ws_ms: list[float]
    stored: int
    drained_in: float
    cpu: dict[str, float] = field(default_factory=dict)  # while sending the webhooks
    floor_cpu: dict[str, float] = field(default_factory=dict)  # while sending the floor
    work_cpu: dict[str, float] = field(default_factory=dict)  # until every owed job is done

    def cpu_ms_per_message(self) -> dict[str, float]:
        """CPU milliseconds each component spent per message, from the first webhook until the
        work it caused (reply jobs, analyses) was done: unlike latency, barely moved by other
        load on a shared machine."""
        return {
            name: seconds * 1000 / self.expected
            for name, seconds in self.work_cpu.items()
            if name not in ("machine", "wall")
        }

    def floor_cpu_ms(self) -> dict[str, float]:
        return {
            name: seconds * 1000 / max(len(self.floor), 1)
            for name, seconds in self.floor_cpu.items()
            if name not in ("machine", "wall")
        }

    @property
    def expected(self) -> int:
        return len(self.ack)

    def ack_p(self, fraction: float) -> float:
        return percentile([r.latency_ms for r in self.ack], fraction)

    def floor_p(self, fraction: float) -> float:
        return percentile([r.latency_ms for r in self.floor], fraction)

    def ws_p(self, fraction: float) -> float:
        return percentile(self.ws_ms, fraction)

    @staticmethod
    def generator_late_ms(results: list[Result]) -> tuple[float, float]:
        """p99 and longest of how late this process sent each request after its due time: a
        pause of the load generator's own (its event loop blocked, its garbage collector)
        counts in every latency above, and this tells it from a pause of the servers'."""
        late = [(r.sent - r.due) * 1000 for r in results]
        return percentile(late, 0.99), max(late, default=0.0)

    @property
    def passed(self) -> bool:
        return (
            self.ws_p(0.99) <= WS_P99_TARGET_MS
            and self.ack_p(0.99) <= ACK_FACTOR_TARGET * self.floor_p(0.99)
            and self.stored == self.expected
            and not non_2xx(self.ack)
        )

    def summary(self) -> dict:
        return {
            "rate": self.rate,
            "seconds": self.seconds,
            "ack_p50_ms": self.ack_p(0.5),
            "ack_p99_ms": self.ack_p(0.99),
            "floor_p50_ms": self.floor_p(0.5),
            "floor_p99_ms": self.floor_p(0.99),
            "ws_p50_ms": self.ws_p(0.5),
            "ws_p99_ms": self.ws_p(0.99),
            "stored": self.stored,
            "expected": self.expected,
            "ack_non_2xx": non_2xx(self.ack),
            "floor_non_2xx": non_2xx(self.floor),
            "drained_in_s": self.drained_in,
            "passed": self.passed,
            "cpu": self.cpu,
            "cpu_ms_per_message": self.cpu_ms_per_message(),
            "floor_cpu_ms_per_request": self.floor_cpu_ms(),
            "generator_late_ms": {
                "webhooks_p99_max": self.generator_late_ms(self.ack),
                "floor_p99_max": self.generator_late_ms(self.floor),
            },
            "slowest_to_socket": self.slowest(),
        }

    def slowest(self, count: int = 20) -> list[dict]:
        """The messages that took longest to reach the socket: when in the run they were sent
        tells a steady backlog from a stall."""
        start = self.ack[0].due if self.ack else 0.0
        worst = sorted(range(len(self.ack)), key=lambda i: self.ws_ms[i], reverse=True)[:count]
        return [
            {
                "sent_at_s": round(self.ack[i].due - start, 2),
                "ack_ms": round(self.ack[i].latency_ms, 1),
                "ws_ms": round(self.ws_ms[i], 1) if not math.isinf(self.ws_ms[i]) else None,
            }
            for i in sorted(worst)
        ]


class Bench:
    def __init__(self, args: argparse.Namespace, stack: Stack, fixture: product.Fixture) -> None:
        self.args = args
        self.stack = stack
        self.pool = HttpPool("127.0.0.1", stack.http_port)
        self.listener = Listener(
            Target(
                host="127.0.0.1",
                http_port=stack.http_port,
                ws_port=stack.ws_port,
                email=fixture.admin_email,
                password=fixture.admin_password,
                after=product.last_event_id(),
            )
        )
        self.arrivals: dict[str, float] = {}
        self.seen_by_run: Counter = Counter()
        self.meter = self.new_meter()
        self.idle_cores: dict[str, float] = {}  # each component's use while nothing happens

    def new_meter(self) -> CpuMeter:
        stack = self.stack
        return CpuMeter(
            {
                "gunicorn": lambda: stack.pids("web"),
                "daphne": lambda: stack.pids("ws"),
                "celery": lambda: stack.pids("worker") + stack.pids("beat"),
                "postgres": self._postgres_pids,
                "redis": _redis_pids,
                "generator": lambda: [os.getpid(), self.listener.process.pid or 0],
            },
            trees=frozenset(("gunicorn", "daphne", "celery", "generator")),
        )

    def minus_idle(self, used: dict[str, float]) -> dict[str, float]:
        """CPU seconds beyond what each component burns idle (event loops, pollers, beat) over
        the same wall time: what the messages themselves cost."""
        wall = used["wall"]
        return {
            name: seconds
            if name in ("machine", "wall")
            else max(0.0, seconds - self.idle_cores.get(name, 0.0) * wall)
            for name, seconds in used.items()
        }

    # --- plumbing -------------------------------------------------------------------------------

    @staticmethod
    def _postgres_pids() -> list[int]:
        # The backends of the bench's database, and the server's own processes (WAL writer,
        # checkpointer, autovacuum): their work is our writes' too.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND"
                " (datname = current_database() OR backend_type <> 'client backend')"
            )
            return [row[0] for row in cursor.fetchall()]

    async def collect(self) -> None:
        reply = await asyncio.to_thread(self.listener.collect)
        for external_id, _event_id, at, _source, sender in reply["records"]:
            if sender != "user" or not external_id.startswith("wamid.bench."):
                continue
            if external_id not in self.arrivals:
                self.arrivals[external_id] = at
                self.seen_by_run[external_id.split(".")[2]] += 1

    async def settle(self, *, foreign: bool = True) -> None:
        """Before a phase: wait until nothing is owed (webhook events, reply jobs, scheduled
        analyses) and the worker has been idle for 3 s (at most ``--settle-cap`` s), then until
        the machine's other load (not ours: other jobs on a shared machine) is below
        ``--max-foreign-load`` cores for 3 s (at most 60 s more)."""
        owed, worker = await self._quiet(self.args.settle_cap, foreign=False)
        if owed is not None:
            print(
                f"  (still busy after {self.args.settle_cap:.0f} s: owed {owed}, worker "
                f"{worker:.2f} cores)"
            )
        if not foreign:
            return
        owed, level = await self._quiet(60.0, foreign=True)
        if owed is not None:
            print(f"  (other processes kept using {level:.2f} cores)")

    async def _quiet(self, cap: float, *, foreign: bool) -> tuple[dict | None, float]:
        deadline = time.monotonic() + cap
        quiet_seconds, level = 0, 0.0
        meter = self.new_meter()
        while time.monotonic() < deadline:
            owed = await asyncio.to_thread(product.pending_work)
            meter.start()
            await asyncio.sleep(1.0)
            used = meter.stop()
            if foreign:
                level = foreign_load(used)
                quiet = level < self.args.max_foreign_load
            else:
                level = used["celery"] / max(used["wall"], 0.001)
                quiet = level < 0.05 and not any(owed.values())
            quiet_seconds = quiet_seconds + 1 if quiet else 0
            if quiet and not foreign:
                self.idle_cores = {k: v / max(used["wall"], 0.001) for k, v in used.items()}
            if quiet_seconds >= 3:
                return None, level
        return owed, level

    async def await_messages(self, run: str, expected: int, *, stall: float = 30.0) -> float:
        """Until the socket has seen every message of ``run`` (or progress stops for ``stall``)."""
        started = last_progress = time.monotonic()
        seen = -1
        while self.seen_by_run[run] < expected:
            await self.collect()
            if self.seen_by_run[run] > seen:
                seen, last_progress = self.seen_by_run[run], time.monotonic()
            if time.monotonic() - last_progress > stall:
                break
            await asyncio.sleep(0.2)
        return time.monotonic() - started

    def _webhooks(self, run: str, count: int) -> list[Request]:
        return [
            whatsapp.signed_request(
                whatsapp.body(run, n, customers=self.args.customers, seed=self.args.seed)
            )
            for n in range(count)
        ]

    def _floor(self, count: int) -> list[Request]:
        # The same bytes and headers as the webhooks, so request size and parsing are equal.
        return [
            Request(FLOOR_PATH, request.body, request.headers)
            for request in self._webhooks("floor", count)
        ]

    # --- phases ---------------------------------------------------------------------------------

    async def warm_up(self) -> None:
        """One message from every customer (their contact and conversation exist afterwards,
        as for returning customers), at a rate every version of the product sustains."""
        rate, count = 100.0, self.args.customers
        run = uuid.uuid4().hex[:8]
        requests = [
            whatsapp.signed_request(whatsapp.body(run, who, customers=count, who=who))
            for who in range(count)
        ]
        await open_loop(self.pool, self._floor(int(rate * 3)), rate)
        results = await open_loop(self.pool, requests, rate)
        await self.await_messages(run, len(results), stall=60.0)
        print(
            f"warm-up: {count} customers wrote once at {rate:.0f}/s; "
            f"{self.seen_by_run[run]} message:new seen; non-2xx {non_2xx(results) or 'none'}"
        )

    async def trial(self, rate: float, seconds: float, before_webhooks=None) -> Trial:
        count = max(1, int(rate * seconds))
        await self.settle()
        self.meter.start()
        floor = await open_loop(self.pool, self._floor(count), rate)
        floor_cpu = self.minus_idle(self.meter.stop())
        run = uuid.uuid4().hex[:8]
        requests = self._webhooks(run, count)
        if before_webhooks is not None:
            before_webhooks()  # the profiler attaches here
        work = self.new_meter()
        work.start()
        self.meter.start()
        ack = await open_loop(self.pool, requests, rate)
        cpu = self.meter.stop()
        drained = await self.await_messages(run, count)
        await self.settle(foreign=False)  # the work these messages caused is done
        work_cpu = self.minus_idle(work.stop())
        prefix = whatsapp.message_id(run, 0)[:-1]
        stored = await asyncio.to_thread(product.stored_count, prefix)
        ws_ms = [
            (self.arrivals[whatsapp.message_id(run, r.index)] - r.due) * 1000
            if whatsapp.message_id(run, r.index) in self.arrivals
            else math.inf
            for r in ack
        ]
        trial = Trial(rate, seconds, floor, ack, ws_ms, stored, drained, cpu, floor_cpu, work_cpu)
        self.print_trial(trial)
        return trial

    def print_trial(self, trial: Trial) -> None:
        ratio = trial.ack_p(0.99) / trial.floor_p(0.99)
        print(
            f"{trial.rate:6.0f}/s  ack {ms(trial.ack_p(0.5)):>8} / {ms(trial.ack_p(0.99)):>8}"
            f"  floor {ms(trial.floor_p(0.5)):>8} / {ms(trial.floor_p(0.99)):>8}"
            f"  ({ratio:4.1f}x)  POST->WS {ms(trial.ws_p(0.5)):>8} / {ms(trial.ws_p(0.99)):>8}"
            f"  stored {trial.stored}/{trial.expected}"
            f"  {'PASS' if trial.passed else 'fail'}"
        )
        errors = non_2xx(trial.ack)
        floor_errors = non_2xx(trial.floor)
        if errors or floor_errors:
            print(f"          non-2xx: webhooks {errors}, floor {floor_errors}")
        print(
            f"          last message seen {trial.drained_in:.1f} s after the last POST; "
            + describe(trial.cpu)
        )
        (ack_p99, ack_max), (floor_p99, floor_max) = (
            trial.generator_late_ms(trial.ack),
            trial.generator_late_ms(trial.floor),
        )
        print(
            f"          this generator sent late by p99 / longest: webhooks {ms(ack_p99)} / "
            f"{ms(ack_max)}, floor {ms(floor_p99)} / {ms(floor_max)}"
        )
        per_message = trial.cpu_ms_per_message()
        floor = trial.floor_cpu_ms()
        total = sum(per_message.values()) - per_message.get("generator", 0.0)
        print(
            "          CPU ms per message until its work was done: "
            + ", ".join(f"{name} {value:.2f}" for name, value in per_message.items())
            + f" (floor: gunicorn {floor.get('gunicorn', 0):.2f}, postgres "
            f"{floor.get('postgres', 0):.2f}); servers {total:.1f} ms -> at most "
            f"{1000 * CORES / max(total, 0.001):.0f} msg/s on {CORES} cores"
        )

    async def closed_phase(
        self, make: Callable[[int], Request], seconds: float, *, sent: Callable[[], Any]
    ) -> ClosedPhase:
        """One closed-loop phase on connections spread evenly over gunicorn's processes
        (HttpPool.spread)."""
        placed = await self.pool.spread(CLOSED_LOOP_CLIENTS, PROCESS_PATH, self.stack.workers)
        started = time.monotonic()
        self.meter.start()
        results = await closed_loop(self.pool, make, seconds, CLOSED_LOOP_CLIENTS)
        ended = time.monotonic()
        at_end = await asyncio.to_thread(sent)
        cpu = self.meter.stop()
        connections = "/".join(str(n) for n in sorted(placed.values()))
        shares = f"gunicorn's processes {self.meter.split('gunicorn', cpu['wall'])}"
        return ClosedPhase(
            results, cpu, f"{shares} (connections {connections})", started, ended, at_end
        )

    async def closed(self, seconds: float) -> dict:
        await self.settle()
        floor_bodies = self._floor(2000)
        floor = await self.closed_phase(
            lambda i: floor_bodies[i % len(floor_bodies)], seconds, sent=lambda: None
        )
        await self.settle()
        run = uuid.uuid4().hex[:8]
        # Built before the clock starts, as the floor's are: signing them on the way is the
        # generator's CPU taken from the servers on this machine, which the floor is not charged.
        webhooks = self._webhooks(run, int(seconds * CLOSED_LOOP_PREBUILT_PER_SECOND))

        def webhook(i: int) -> Request:
            if i < len(webhooks):
                return webhooks[i]
            return whatsapp.signed_request(
                whatsapp.body(run, i, customers=self.args.customers, seed=self.args.seed)
            )

        prefix = whatsapp.message_id(run, 0)[:-1]
        phase = await self.closed_phase(webhook, seconds, sent=lambda: product.stored_count(prefix))
        ack, cpu, started, ended = phase.results, phase.cpu, phase.started, phase.ended
        committed_in_window = phase.at_end
        accepted = sum(1 for r in ack if 200 <= r.status < 300)
        await self.await_messages(run, accepted)
        stored = await asyncio.to_thread(product.stored_count, prefix)
        last = max(
            (at for ext, at in self.arrivals.items() if ext.startswith(prefix)), default=ended
        )
        result = {
            "seconds": seconds,
            "floor_rps": len(floor.results) / seconds,
            "ack_rps": len(ack) / (ended - started),
            "ack_non_2xx": non_2xx(ack),
            "floor_non_2xx": non_2xx(floor.results),
            "committed_in_window": committed_in_window,
            "committed_rate_in_window": committed_in_window / (ended - started),
            "stored": stored,
            "accepted": accepted,
            "all_committed_after_s": last - started,
            "commit_rate_overall": stored / max(last - started, 0.001),
            "cpu": cpu,
            "floor_cpu": floor.cpu,
        }
        result["ratio"] = result["ack_rps"] / result["floor_rps"]
        print(
            f"closed loop, 16 connections, {seconds:.0f} s: "
            f"webhook ack {result['ack_rps']:.0f} req/s vs floor {result['floor_rps']:.0f} req/s "
            f"({result['ratio']:.2f}x; target >= "
            f"{CLOSED_LOOP_TARGET}x); non-2xx {result['ack_non_2xx'] or 'none'}"
        )
        print(
            f"          committed while sending: {committed_in_window} "
            f"({result['committed_rate_in_window']:.0f} msg/s); all {stored}/{accepted} committed "
            f"{result['all_committed_after_s']:.1f} s after the first POST "
            f"({result['commit_rate_overall']:.0f} msg/s overall)"
        )
        print(f"          {describe(cpu)}; {phase.shares}")
        print(f"          floor: {describe(floor.cpu)}; {floor.shares}")
        return result

    async def search(self, trials: list[Trial]) -> float:
        """Highest passing rate, to within max(10/s, 10 %), from what the fixed rates showed."""
        passed = [t.rate for t in trials if t.passed]
        lo = max(passed, default=0.0)
        failed = [t.rate for t in trials if not t.passed and t.rate > lo]
        hi = min(failed, default=None)
        while hi is None and lo < self.args.max_rate:
            rate = min(self.args.max_rate, max(2 * lo, 20.0))
            trial = await self.trial(rate, self.args.seconds)
            trials.append(trial)
            lo, hi = (rate, None) if trial.passed else (lo, rate)
            if trial.passed and rate >= self.args.max_rate:
                break
        while hi is not None and hi - lo > max(10.0, 0.1 * lo):
            rate = 5 * round((lo + hi) / 10)
            trial = await self.trial(rate, self.args.seconds)
            trials.append(trial)
            lo, hi = (rate, hi) if trial.passed else (lo, rate)
        return lo


def foreign_load(used: dict[str, float]) -> float:
    """Cores used by processes that are not part of the benchmark, over a metered phase."""
    ours = sum(seconds for name, seconds in used.items() if name not in ("machine", "wall"))
    return max(0.0, used["machine"] - ours) / max(used["wall"], 0.001)


def _redis_pids() -> list[int]:
    from bench.harness.cpu import descendants

    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "redis-server":
                    found.extend(descendants(int(entry.name)))
            except OSError:
                continue
    return found


def prepare(args: argparse.Namespace) -> product.Fixture:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_floor_insert (id bigserial primary key, body bytea)"
        )
    return product.seed(assistant_mode=args.assistant)


def stack_env(args: argparse.Namespace, graph_port: int | None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "flame.settings"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE")  # the product runs with Django's async checks
    env["LOG_LEVEL"] = PRODUCT_LOG_LEVEL
    if graph_port:
        env["GRAPH_API_BASE_URL"] = f"http://127.0.0.1:{graph_port}"
    return env


async def run(args: argparse.Namespace, stack: Stack, fixture: product.Fixture) -> int:
    bench = Bench(args, stack, fixture)
    bench.listener.start()
    try:
        await bench.warm_up()
        return await measure(args, bench)
    finally:
        bench.listener.stop()
        bench.pool.close()


async def measure(args: argparse.Namespace, bench: Bench) -> int:
    print(
        f"\nopen loop, {args.seconds:.0f} s per rate; ack p50 / p99, floor p50 / p99 (ratio of "
        "p99s), POST -> WebSocket p50 / p99, from each request's intended send time"
    )
    trials = [await bench.trial(rate, args.seconds) for rate in args.rates]
    closed = await bench.closed(args.closed_seconds) if args.closed_seconds else None
    best = None
    if args.search:
        print(
            f"\nsearch: POST->WS p99 <= {WS_P99_TARGET_MS:.0f} ms, ack p99 <= "
            f"{ACK_FACTOR_TARGET:.0f}x floor p99, every message stored"
        )
        best = await bench.search(trials)
        print(f"highest sustained rate: {best:.0f} messages/s (target >= {args.target_rate:.0f})")
    return report(args, trials, closed, best)


def report(args, trials: list[Trial], closed: dict | None, best: float | None) -> int:
    results = {
        "args": {k: v for k, v in vars(args).items() if k != "log_dir"},
        "trials": [t.summary() for t in trials],
        "closed_loop": closed,
        "highest_rate": best,
    }
    path = Path(args.log_dir) / "results.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nresults: {path}")
    missed = []
    if any(t.stored != t.expected for t in trials):
        missed.append("a message was not stored")
    if best is not None and best < args.target_rate:
        missed.append(f"highest rate {best:.0f}/s < {args.target_rate:.0f}/s")
    if closed and closed["ratio"] < CLOSED_LOOP_TARGET:
        missed.append(f"closed-loop ack {closed['ratio']:.2f}x < {CLOSED_LOOP_TARGET}x the floor")
    print("targets: " + ("met" if not missed else "MISSED: " + "; ".join(missed)))
    return 1 if missed else 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="20,100,200", help="open-loop rates, messages/s")
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds per open-loop rate")
    parser.add_argument("--closed-seconds", type=float, default=20.0, help="0 skips it")
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--assistant", choices=product.ASSISTANT_MODES, default="off-duty")
    parser.add_argument("--no-search", dest="search", action="store_false")
    parser.add_argument("--max-rate", type=float, default=1000.0)
    parser.add_argument("--target-rate", type=float, default=300.0)
    parser.add_argument("--profile", type=float, default=0.0, help="profile one trial at this rate")
    parser.add_argument(
        "--settle-cap", type=float, default=900.0, help="max seconds to wait for owed work"
    )
    parser.add_argument(
        "--max-foreign-load",
        type=float,
        default=0.3,
        help="before each phase, wait (up to 1 min) until other processes use fewer cores",
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=Stack.worker_nice,
        help="the worker's session nice (0, compose's: web's CPU weight; 3: about cpu_shares 512;"
        " 6: about cpu_shares 256)",
    )
    parser.add_argument("--log-dir", default=str(ROOT / "var" / "bench" / "webhooks"))
    args = parser.parse_args()
    args.rates = [float(rate) for rate in args.rates.split(",") if rate]
    args.log_dir = str(Path(args.log_dir) / time.strftime("%Y%m%d-%H%M%S"))
    return args


def main() -> int:
    args = parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/webhooks needs PostgreSQL and Redis: use bench/webhooks/run")
    fixture = prepare(args)
    graph_port = free_port() if args.assistant == "replying" else None
    stack = Stack(
        env=stack_env(args, graph_port), log_dir=Path(args.log_dir), worker_nice=args.worker_nice
    )
    if graph_port:
        stack._spawn("graph", [sys.executable, "-m", "bench.harness.fake_graph", str(graph_port)])
    if args.profile:
        from bench.webhooks import profile

        return profile.main(args, stack, fixture)
    stack.start_all()
    print(
        f"stack up: gunicorn :{stack.http_port} (2x4), daphne :{stack.ws_port}, celery -c 2"
        f" (nice {args.worker_nice}), beat;"
        f" assistant {args.assistant}; {args.customers} customers; logs in {args.log_dir}"
    )
    connection.close()
    try:
        return asyncio.run(run(args, stack, fixture))
    finally:
        stack.stop_all()


if __name__ == "__main__":
    sys.exit(main())
