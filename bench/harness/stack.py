"""The product's processes, started the way docker-compose.yml and the Dockerfile run them.

- web: gunicorn flame.wsgi, gthread, 2 workers x 4 threads, keep-alive 5 s, access log on
  stdout (the image's CMD, bound to a spare port);
- ws: daphne flame.asgi with --proxy-headers and its access log;
- worker: one Celery worker, ``-c 2`` on every queue (the issue's one-worker setup; compose
  splits ``ai`` onto a second worker), at web's CPU weight as in compose (``--worker-nice`` to
  try another: see ``set_session_weight``);
- beat: Celery beat (the sweepers run every minute).

Each process is the leader of its own session so a whole tree (a Celery worker and its pool)
can be signalled at once, and is stopped when the benchmark exits. Their stdout and stderr go
to ``<log_dir>/<name>.log``.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness.cpu import descendants

ROOT = Path(__file__).resolve().parents[2]
ACCESS_LOG_FORMAT = (
    '%({x-real-ip}i)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s" rid=%({x-request-id}i)s'
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Stack:
    env: dict[str, str]
    log_dir: Path
    http_port: int = field(default_factory=free_port)
    ws_port: int = field(default_factory=free_port)
    web_settings: str = "bench.webhooks.settings"
    workers: int = 2
    threads: int = 4
    concurrency: int = 2
    worker_nice: int = 0
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        atexit.register(self.stop_all)
        # A benchmark stopped with SIGTERM (timeout, kill) still stops what it started: the
        # default handler would exit without running atexit, leaving the servers orphaned.
        signal.signal(signal.SIGTERM, _exit_on_signal)
        signal.signal(signal.SIGHUP, _exit_on_signal)

    # --- starting ------------------------------------------------------------------------------

    def _spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.log_dir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_web(self) -> None:
        command = [
            *_module("gunicorn"),
            "flame.wsgi:application",
            "--bind", f"127.0.0.1:{self.http_port}",
            "--worker-class", "gthread",
            "--workers", str(self.workers),
            "--threads", str(self.threads),
            "--timeout", "30",
            "--graceful-timeout", "30",
            "--keep-alive", "5",
            "--worker-tmp-dir", "/dev/shm",
            "--access-logfile", "-",
            "--access-logformat", ACCESS_LOG_FORMAT,
            "--error-logfile", "-",
        ]  # fmt: skip
        self._spawn("web", command, {"DJANGO_SETTINGS_MODULE": self.web_settings})
        self.wait_http(self.http_port, "web")

    def start_ws(self) -> None:
        command = [
            *_module("daphne"),
            "--bind", "127.0.0.1",
            "--port", str(self.ws_port),
            "--proxy-headers",
            "--access-log", "-",
            "flame.asgi:application",
        ]  # fmt: skip
        self._spawn("ws", command)
        self.wait_http(self.ws_port, "ws")

    def start_worker(self) -> None:
        nice = ["nice", "-n", str(self.worker_nice)] if self.worker_nice else []
        command = [
            *nice,
            *_module("celery"),
            "--app=flame",
            "worker",
            "--queues=ingest,outbound,ai,default",
            "--hostname=worker@bench",
            f"--concurrency={self.concurrency}",
            # As compose's `worker`: replaced by memory only (each replacement stalls a task).
            "--max-memory-per-child=524288",
            "--without-gossip",
            "--without-mingle",
        ]
        self._spawn("worker", command)
        set_session_weight(self.processes["worker"].pid, self.worker_nice)
        self._wait_pool("worker", self.concurrency)

    def start_beat(self) -> None:
        schedule = self.log_dir / "celerybeat-schedule"
        self._spawn("beat", [*_module("celery"), "--app=flame", "beat", f"--schedule={schedule}"])

    def start_all(self) -> None:
        self.start_web()
        self.start_ws()
        self.start_worker()
        self.start_beat()

    # --- waiting -------------------------------------------------------------------------------

    def wait_http(self, port: int, name: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive(name)
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/health", headers={"Host": "127.0.0.1"})
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{name} did not answer /health on port {port}")

    def _wait_pool(self, name: str, size: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive(name)
            if len(self.pids(name)) > size:
                time.sleep(1.0)  # the pool processes are forked; give them a moment to import
                return
            time.sleep(0.2)
        raise SystemExit(f"{name} did not start its pool")

    def _check_alive(self, name: str) -> None:
        if self.processes[name].poll() is not None:
            tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
            raise SystemExit(f"{name} exited:\n{tail}")

    # --- inspecting and stopping ---------------------------------------------------------------

    def pids(self, name: str) -> list[int]:
        process = self.processes.get(name)
        if process is None or process.poll() is not None:
            return []
        return descendants(process.pid)

    def children(self, name: str) -> list[int]:
        """The pool (gunicorn workers, Celery pool processes): everything below the leader."""
        return [pid for pid in self.pids(name) if pid != self.processes[name].pid]

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal a whole process tree at once, as the kernel's OOM killer or a host crash would."""
        process = self.processes.get(name)
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        process.wait()

    def stop(self, name: str, timeout: float = 15.0) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)


def set_session_weight(leader: int, nice: int) -> None:
    """Give a session a CPU weight, as docker's ``cpu_shares`` gives a container one (nice 6 is
    a weight of 272 against a default process's 1024, about ``cpu_shares: 256``).

    Every process here leads its own session, and with the kernel's autogroup scheduling
    (``kernel.sched_autogroup_enabled = 1``, Debian's default) each session is a group that
    competes with the others at the group's weight: a process's own nice value then only ranks
    it within its session, and ``nice -n 6`` alone changed nothing between web and worker. The
    group's nice does what a container's cgroup weight does. Without autogroups the command's
    own ``nice`` does it.
    """
    autogroup = Path(f"/proc/{leader}/autogroup")
    if autogroup.exists() and _autogroups_enabled():
        autogroup.write_text(str(nice))


def _autogroups_enabled() -> bool:
    setting = Path("/proc/sys/kernel/sched_autogroup_enabled")
    return setting.exists() and setting.read_text().strip() == "1"


def _exit_on_signal(signum, _frame) -> None:
    raise SystemExit(128 + signum)


def _module(name: str) -> list[str]:
    return [sys.executable, "-m", name]
