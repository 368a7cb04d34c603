"""Where the time goes on the webhook path: round trips counted in-process, then py-spy.

``bench/webhooks/run --profile 200``:

1. Round trips, in this process, through the real code: N webhooks through Django's full
   handler and middleware (django.test.Client), then the worker's processing of the stored events
   (``ingest.webhook_events_process``, as the task calls it) in batches of 100 and one by one.
   Counted per request / per message: SQL statements (with their shapes), PostgreSQL round
   trips (statements + BEGIN/COMMIT), Redis round trips by command, Celery publishes by task.
2. A trial at the given rate with py-spy attached (``--idle --nonblocking``, 100 Hz) to every
   gunicorn worker and to the Celery worker and its pool. Raw collapsed stacks are saved (open
   them in speedscope.app or feed them to flamegraph.pl) and summarised here: the share of
   request (task) samples per subsystem, by the innermost frame that names one, and the
   product functions with the largest inclusive share.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections import Counter
from contextlib import ExitStack, contextmanager
from pathlib import Path
from unittest import mock

from django.db import close_old_connections, connection
from django.test import Client

from bench.harness import whatsapp
from bench.harness.stack import ROOT

# --- 1. round trips --------------------------------------------------------------------------


class RoundTrips:
    """Counts what one piece of code sends to PostgreSQL, Redis and the Celery broker."""

    def __init__(self) -> None:
        self.sql: Counter = Counter()
        self.db_executes = 0
        self.transactions = 0
        self.redis: Counter = Counter()
        self.publishes: Counter = Counter()

    @contextmanager
    def counting(self):
        import psycopg
        import redis.asyncio.client as async_redis
        import redis.client
        from celery.app.task import Task

        with ExitStack() as stack:
            stack.enter_context(connection.execute_wrapper(self._sql))
            for owner, name, hook in (
                (psycopg.Cursor, "execute", self._db),
                (psycopg.Cursor, "executemany", self._db),
                (psycopg.Connection, "commit", self._commit),
                (psycopg.Connection, "rollback", self._commit),
                (redis.client.Redis, "execute_command", self._redis_command),
                (redis.client.Pipeline, "execute", self._redis_pipeline),
                (async_redis.Redis, "execute_command", self._redis_command_async),
                (async_redis.Pipeline, "execute", self._redis_pipeline_async),
                (Task, "apply_async", self._publish),
            ):
                stack.enter_context(_wrap(owner, name, hook))
            yield self

    def _sql(self, execute, sql, params, many, context):
        self.sql[_shape(sql)] += 1
        return execute(sql, params, many, context)

    def _db(self, original, this, *args, **kwargs):
        self.db_executes += 1
        return original(this, *args, **kwargs)

    def _commit(self, original, this, *args, **kwargs):
        self.transactions += 1
        return original(this, *args, **kwargs)

    def _redis_command(self, original, this, *args, **kwargs):
        self.redis[str(args[0]).upper()] += 1
        return original(this, *args, **kwargs)

    def _redis_pipeline(self, original, this, *args, **kwargs):
        commands = "+".join(sorted({str(c[0][0]).upper() for c in this.command_stack}))
        self.redis[f"pipeline({commands})"] += 1
        return original(this, *args, **kwargs)

    async def _redis_command_async(self, original, this, *args, **kwargs):
        self.redis[f"{str(args[0]).upper()} (channel layer)"] += 1
        return await original(this, *args, **kwargs)

    async def _redis_pipeline_async(self, original, this, *args, **kwargs):
        self.redis["pipeline (channel layer)"] += 1
        return await original(this, *args, **kwargs)

    def _publish(self, original, this, *args, **kwargs):
        self.publishes[this.name.rsplit(".", 1)[-1]] += 1
        return original(this, *args, **kwargs)

    def per(self, units: int) -> dict:
        statements = sum(self.sql.values())
        return {
            "sql_statements": statements / units,
            # psycopg sends BEGIN before a transaction's first statement: one more round trip.
            "postgres_round_trips": (self.db_executes + 2 * self.transactions) / units,
            "transactions": self.transactions / units,
            "redis_round_trips": sum(self.redis.values()) / units,
            "redis": {name: n / units for name, n in self.redis.most_common()},
            "celery_publishes": {name: n / units for name, n in self.publishes.most_common()},
            "sql": {shape: n / units for shape, n in self.sql.most_common(25)},
        }


def _wrap(owner, name: str, hook):
    original = getattr(owner, name)
    if asyncio.iscoroutinefunction(original):

        async def wrapper(this, *args, **kwargs):
            return await hook(original, this, *args, **kwargs)

    else:

        def wrapper(this, *args, **kwargs):
            return hook(original, this, *args, **kwargs)

    return mock.patch.object(owner, name, wrapper)


_LITERALS = re.compile(r"'[^']*'|\b\d+\b")
_LISTS = re.compile(r"\((?:\s*(?:%s|\?)\s*,?)+\)")


def _shape(sql: str) -> str:
    """A statement without its values: "UPDATE "integrations_webhookevent" SET ... WHERE ..."."""
    shape = _LISTS.sub("(...)", _LITERALS.sub("?", sql))
    shape = re.sub(r"SELECT .*? FROM", "SELECT … FROM", shape, flags=re.S)
    return re.sub(r"\s+", " ", shape)[:150]


def _post(client: Client, path: str, raw: bytes, headers: dict) -> int:
    # What a server does at each request start (the test client skips it): with
    # conn_health_checks the first query of the request is preceded by a SELECT 1.
    close_old_connections()
    extra = {
        "HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k != "Content-Type"
    }
    response = client.post(
        path, data=raw, content_type="application/json", HTTP_HOST="127.0.0.1", **extra
    )
    return response.status_code


def count_ack_path(count: int) -> tuple[dict, dict, str]:
    """Round trips per webhook (and per floor request) through the whole Django stack."""
    client = Client()
    run = uuid.uuid4().hex[:8]
    bodies = [whatsapp.body(run, n, customers=50) for n in range(count + 1)]
    request = whatsapp.signed_request(bodies[0])
    _post(client, request.path, request.body, request.headers)  # loads the signer cache
    webhook, floor = RoundTrips(), RoundTrips()
    started = time.perf_counter()
    with webhook.counting():
        for raw in bodies[1:]:
            request = whatsapp.signed_request(raw)
            assert _post(client, request.path, request.body, request.headers) == 200
    webhook_ms = (time.perf_counter() - started) * 1000 / count
    started = time.perf_counter()
    with floor.counting():
        for raw in bodies[1:]:
            assert _post(client, "/bench/insert", raw, {}) == 200
    floor_ms = (time.perf_counter() - started) * 1000 / count
    return (
        {**webhook.per(count), "in_process_ms": webhook_ms},
        {**floor.per(count), "in_process_ms": floor_ms},
        run,
    )


def count_worker_path(run: str) -> dict:
    """Round trips per message when the worker processes the stored events of ``run``."""
    from integrations import ingest
    from integrations.models import WebhookEvent

    pending = list(
        WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    batched = RoundTrips()
    processed = 0
    with batched.counting():
        while processed < len(pending) and processed < 200:
            ingest.ingest_trigger_clear()
            processed += len(ingest.webhook_events_process(event_id=pending[processed]))
    return {**batched.per(max(processed, 1)), "messages": processed}


def count_single(count: int) -> dict:
    """The low-rate case: each webhook stored, then processed on its own (a batch of one)."""
    from integrations import ingest
    from integrations.models import WebhookEvent

    client = Client()
    run = uuid.uuid4().hex[:8]
    single = RoundTrips()
    for n in range(count):
        request = whatsapp.signed_request(whatsapp.body(run, n, customers=50))
        _post(client, request.path, request.body, request.headers)
        event_id = WebhookEvent.objects.order_by("-id").values_list("pk", flat=True)[0]
        with single.counting():
            ingest.ingest_trigger_clear()
            ingest.webhook_events_process(event_id=event_id)
    return single.per(count)


def round_trips(count: int = 200) -> dict:
    # A first pass creates the 50 customers: what follows is about returning customers.
    _, _, warm_run = count_ack_path(50)
    count_worker_path(warm_run)
    webhook, floor, run = count_ack_path(count)
    return {
        "ack": webhook,
        "floor": floor,
        "worker_batched": count_worker_path(run),
        "worker_single": count_single(20),
    }


def print_round_trips(counts: dict) -> None:
    print("\nround trips, counted in-process through the real code (returning customers)")
    for name, label in (
        ("ack", "webhook request"),
        ("floor", "floor request"),
        ("worker_batched", "message, batches of 100"),
        ("worker_single", "message, processed alone"),
    ):
        c = counts[name]
        timing = f", {c['in_process_ms']:.2f} ms in-process" if "in_process_ms" in c else ""
        print(
            f"  per {label}: {c['sql_statements']:.2f} SQL statements, "
            f"{c['postgres_round_trips']:.2f} PostgreSQL round trips "
            f"({c['transactions']:.2f} transactions), {c['redis_round_trips']:.2f} Redis round "
            f"trips{timing}"
        )
        if c["redis"]:
            print("      redis: " + ", ".join(f"{k} {v:.2f}" for k, v in c["redis"].items()))
        if c["celery_publishes"]:
            print(
                "      celery publishes: "
                + ", ".join(f"{k} {v:.2f}" for k, v in c["celery_publishes"].items())
            )
        for shape, n in list(c["sql"].items())[:12]:
            print(f"      {n:6.2f}  {shape}")


# --- 2. py-spy ----------------------------------------------------------------------------------

# A sample belongs to the first of these that any of its frames is inside (the whole call,
# including the round trips it makes)...
ENCLOSING = (
    ("logging (records, JSON formatter, handlers)", ("logging/__init__.py", "flame/logging.py")),
    (
        "Celery publish (apply_async: kombu + its Redis round trips)",
        ("apply_async (celery/app/task.py",),
    ),
    (
        "realtime publish (channel layer group_send, waiting on it)",
        ("publish (conversations/realtime.py",),
    ),
    ("Django cache (cache.add/delete: Redis round trips)", ("django/core/cache/",)),
    ("signature check (HMAC, signer cache)", ("integrations/signatures.py",)),
)
# ...else to the subsystem of its innermost frame that names one.
INNERMOST = (
    ("PostgreSQL (psycopg: sending, waiting, parsing rows)", ("psycopg/", "psycopg_binary/")),
    ("Redis client (redis-py)", ("redis/",)),
    ("Celery/kombu (task protocol, acks)", ("kombu/", "celery/", "billiard/")),
    ("channel layer (channels_redis, msgpack)", ("channels_redis/", "msgpack/")),
    ("Django ORM (query building, SQL compiling, model instances)", ("django/db/",)),
    ("DRF serializers", ("rest_framework/",)),
    ("json", ("json/",)),
    ("encryption (credentials)", ("cryptography/", "flame/crypto.py", "flame/fields.py")),
    ("middleware", ("django/middleware/", "corsheaders/", "whitenoise/", "csp/",
                    "flame/middleware.py", "django/contrib/")),
    ("Django request/response, URLs, signals, utils",
     ("django/core/", "django/http/", "django/urls/", "django/dispatch/", "django/utils/")),
    ("gunicorn (HTTP parsing, socket, thread pool)", ("gunicorn/",)),
    ("threading, queues, selectors", ("threading.py", "queue.py", "selectors.py", "concurrent/")),
    ("product code (own frames)", ("(flame/", "(integrations/", "(conversations/", "(assistants/",
                                   "(accounts/", "(analytics/")),
)  # fmt: skip
REQUEST_FRAMES = {
    "web": ("handle_request (gunicorn/workers/gthread.py",),
    "worker": ("trace_task (celery/app/trace.py",),
}
PRODUCT = re.compile(
    r"^(\w+) \(((?:flame|integrations|conversations|assistants|accounts|analytics)/[\w/]+\.py)"
)


def _parse(path: Path):
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            yield stack.split(";"), int(count)


def _subsystem(frames: list[str]) -> str:
    for name, needles in ENCLOSING:
        if any(needle in frame for frame in frames for needle in needles):
            return name
    for frame in reversed(frames):
        for name, needles in INNERMOST:
            if any(needle in frame for needle in needles):
                return name
    return "other (interpreter, stdlib)"


def summarise(paths: list[Path], role: str, top: int = 14) -> dict:
    """Share of in-request (in-task) samples per subsystem and per product function."""
    marker = REQUEST_FRAMES[role]
    total = inside = 0
    by_subsystem: Counter = Counter()
    by_function: Counter = Counter()
    for path in paths:
        for frames, count in _parse(path):
            total += count
            if not any(m in frame for frame in frames for m in marker):
                continue
            inside += count
            by_subsystem[_subsystem(frames)] += count
            for name in {
                match.group(1) + " (" + match.group(2) + ")"
                for f in frames
                if (match := PRODUCT.match(f))
            }:
                by_function[name] += count
    return {
        "samples": total,
        "in_work": inside,
        "subsystems": [(name, n / max(inside, 1)) for name, n in by_subsystem.most_common()],
        "functions": [(name, n / max(inside, 1)) for name, n in by_function.most_common(top)],
    }


def print_summary(title: str, summary: dict) -> None:
    print(f"\n{title}: {summary['in_work']} of {summary['samples']} samples inside a request/task")
    print("  by subsystem (innermost frame that names one):")
    for name, share in summary["subsystems"]:
        print(f"    {share * 100:5.1f} %  {name}")
    print("  product functions, inclusive:")
    for name, share in summary["functions"]:
        print(f"    {share * 100:5.1f} %  {name}")


def start_py_spy(
    pid: int, out: Path, seconds: float, *, idle: bool = True, subprocesses: bool = False
) -> subprocess.Popen:
    """``idle``: also sample threads waiting (on the database, Redis, the GIL), so the shares
    are of wall time in requests; without it, of CPU. ``subprocesses``: follow the Celery
    pool, including the processes that replace recycled ones (--max-memory-per-child)."""
    executable = shutil.which("py-spy") or str(ROOT / ".venv" / "bin" / "py-spy")
    command = [
        executable, "record", "--pid", str(pid), "--rate", "100", "--duration", str(int(seconds)),
        "--format", "raw", "--nonblocking", "--output", str(out),
        *(["--idle"] if idle else []), *(["--subprocesses"] if subprocesses else []),
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


TASKS = (
    ("ingestion (ingest_webhook_event_task)", "ingest_webhook_event_task (integrations/tasks.py"),
    ("reply decision (auto_reply_task)", "auto_reply_task (assistants/tasks.py"),
    ("reply decisions in bulk (auto_reply_due_task)", "auto_reply_due_task (assistants/tasks.py"),
    ("reply (auto_reply_answer_task)", "auto_reply_answer_task (assistants/tasks.py"),
    ("analysis, one (analyze_conversation_task)", "analyze_conversation_task (assistants/tasks.py"),
    ("analyses due, claimed in bulk (analysis_due_task)", "analysis_due_task (assistants/tasks.py"),
    ("analyses, in chunks (analyze_claimed_task)", "analyze_claimed_task (assistants/tasks.py"),
)


def cpu_by_task(path: Path) -> dict:
    """CPU samples of the Celery worker (and pool) over the whole work a trial caused, by task
    type, and outside tasks (receiving, ETA timers, acks, replacing pool processes)."""
    by_task: Counter = Counter()
    processes = set()
    total = 0
    for frames, count in _parse(path):
        total += count
        if frames and frames[0].startswith("process "):
            processes.add(frames[0].split(":")[0])
        label = next((name for name, marker in TASKS if any(marker in f for f in frames)), None)
        if label is None:
            inside = any(m in f for f in frames for m in REQUEST_FRAMES["worker"])
            label = "other tasks" if inside else "outside tasks (consuming, timers, acks, forks)"
        by_task[label] += count
    return {
        "samples": total,
        "processes": len(processes),
        "tasks": [(name, n / max(total, 1)) for name, n in by_task.most_common()],
    }


# --- the run ------------------------------------------------------------------------------------


def main(args, stack, fixture) -> int:
    from bench.webhooks import bench as webhook_bench

    stack.start_web()
    stack.start_ws()
    out = Path(args.log_dir) / "profile"
    out.mkdir(parents=True, exist_ok=True)
    return asyncio.run(_profile(args, stack, webhook_bench.Bench(args, stack, fixture), out))


async def _profile(args, stack, bench, out: Path) -> int:
    bench.listener.start()  # an admin's socket is in the group, as in production
    cpu_spy: list[subprocess.Popen] = []
    try:
        counts = round_trips()  # before the Celery worker starts: it would take the events
        print_round_trips(counts)
        connection.close()
        stack.start_worker()
        stack.start_beat()
        await bench.warm_up()
        spies: list[subprocess.Popen] = []

        def attach() -> None:
            spies.extend(_attach(stack, out, args.seconds))
            # CPU of the worker until the work of these messages is done (stopped below).
            cpu_spy.append(
                start_py_spy(
                    stack.processes["worker"].pid,
                    out / "worker-cpu.txt",
                    3600,
                    idle=False,
                    subprocesses=True,
                )
            )

        trial = await bench.trial(args.profile, args.seconds, attach)
        for spy in spies:
            spy.wait(60)
    finally:
        for spy in cpu_spy:
            spy.send_signal(signal.SIGINT)  # py-spy writes what it has on Ctrl-C
            spy.wait(60)
        bench.listener.stop()
        bench.pool.close()
    return _report(args, out, counts, trial)


def _report(args, out: Path, counts: dict, trial) -> int:
    web = summarise(sorted(out.glob("web-*.txt")), "web")
    worker = summarise([out / "worker-wall.txt"], "worker")
    worker_cpu = summarise([out / "worker-cpu.txt"], "worker")
    tasks = cpu_by_task(out / "worker-cpu.txt")
    print_summary(f"gunicorn workers, wall time in requests, during {args.profile:.0f}/s", web)
    print_summary(f"Celery pool, wall time in tasks, during {args.profile:.0f}/s", worker)
    print(
        f"\nCelery worker CPU from the first webhook until their work was done: "
        f"{tasks['samples']} samples in {tasks['processes']} processes (pool processes are "
        "replaced every 1,000 tasks)"
    )
    for name, share in tasks["tasks"]:
        print(f"    {share * 100:5.1f} %  {name}")
    print_summary("Celery worker CPU inside tasks, by subsystem", worker_cpu)
    summary = {
        "round_trips": counts,
        "web": web,
        "worker_wall": worker,
        "worker_cpu": worker_cpu,
        "worker_cpu_by_task": tasks,
        "trial": trial.summary(),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    print(f"\nraw stacks and summary.json in {out}")
    return 0


def _attach(stack, out: Path, seconds: float) -> list[subprocess.Popen]:
    """py-spy (wall time) on each gunicorn worker, and on the Celery worker with its pool."""
    spies = [start_py_spy(pid, out / f"web-{pid}.txt", seconds) for pid in stack.children("web")]
    worker = stack.processes["worker"].pid
    spies.append(start_py_spy(worker, out / "worker-wall.txt", seconds, subprocesses=True))
    return spies
