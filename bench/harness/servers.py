"""A PostgreSQL cluster and a Redis server of the benchmark's own, on spare ports, to break.

The fault benchmark kills and restarts them, so it never touches the machine's shared servers.
PostgreSQL refuses to run as root: when we are root, its commands run as the ``postgres`` user
(``runuser``), and the data directory belongs to it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


def _postgres_bin() -> Path:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name)
    )
    if not found:
        raise SystemExit("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    return found[-1]


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass
class PostgresCluster:
    directory: Path
    port: int
    bin: Path = field(default_factory=_postgres_bin)

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            _as_postgres([str(self.bin / command[0]), *command[1:]]),
            capture_output=True,
            text=True,
        )
        if check and done.returncode:
            raise SystemExit(f"{command[0]} failed:\n{done.stdout}{done.stderr}")
        return done

    def create(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # mkdtemp's parent is private to us: let the postgres user reach its own directory.
            self.directory.parent.chmod(0o711)
            shutil.chown(self.directory, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        settings = (
            f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.directory}'\nmax_connections = 200\n"
            "fsync = on\nsynchronous_commit = on\n"
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(settings)

    def start(self) -> None:
        log = self.directory / "postgres.log"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-w", "-t", "60", "start")

    def crash(self) -> None:
        """``pg_ctl stop -m immediate``: every backend dies at once, no checkpoint; the next
        start runs crash recovery from the WAL, as after a power cut of the server process."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop", check=False)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def createdb(self, name: str) -> None:
        subprocess.run(
            ["psql", self.url("postgres"), "-qc", f"CREATE DATABASE {name}"],
            check=True,
            capture_output=True,
        )


@dataclass
class RedisServer:
    directory: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Without persistence (no RDB, no AOF): a restart comes back empty."""
        self.directory.mkdir(parents=True, exist_ok=True)
        log = (self.directory / "redis.log").open("ab")
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.directory),
            "--maxmemory-policy", "noeviction",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        for _ in range(100):
            ping = subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
            )
            if ping.stdout.strip() == "PONG":
                return
            time.sleep(0.1)
        raise SystemExit(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def main(argv: list[str]) -> int:
    """``python -m bench.harness.servers postgres start|stop DIRECTORY [PORT]``: a cluster of
    the benchmark's own with PostgreSQL's defaults (what the image's ``postgres:15`` runs;
    autovacuum on), for a shell script to start before and stop after a run."""
    if len(argv) < 3 or argv[0] != "postgres" or argv[1] not in ("start", "stop"):
        print(main.__doc__)
        return 2
    cluster = PostgresCluster(Path(argv[2]), int(argv[3]) if len(argv) > 3 else 0)
    if argv[1] == "stop":
        cluster.stop()
        return 0
    cluster.create()
    cluster.start()
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
