"""The quick-start scripts as a newcomer runs them: ``scripts/bootstrap`` (called by both
``scripts/run`` and ``scripts/test``) and ``scripts/run``'s output. Real processes, no mocks."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from flame.testing import _free_port

ROOT = Path(__file__).resolve().parents[2]


def _offline_pip_environment() -> dict[str, str]:
    """pip that never reaches an index: the copy's requirements are empty, pip is installed."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    return {
        **environment,
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PYTHON": sys.executable,
    }


def test_two_bootstraps_started_together_install_once_and_both_succeed(tmp_path):
    # given a fresh clone (no .venv), as scripts/run and scripts/test started at the same time
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "bootstrap", tmp_path / "scripts" / "bootstrap")
    (tmp_path / "requirements.txt").write_text("# nothing to install\n")
    environment = _offline_pip_environment()

    # when
    runs = [
        subprocess.Popen(
            ["scripts/bootstrap"],
            cwd=tmp_path,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=180)[0] for run in runs]

    # then one created and filled .venv; the other waited for it and found nothing to do
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sorted(output.count("==> Creating .venv") for output in outputs) == [0, 1]
    assert sorted(output.count("==> Installing requirements.txt") for output in outputs) == [0, 1]
    waited = next(output for output in outputs if "==> Creating .venv" not in output)
    assert waited.splitlines() == [
        "==> Waiting for another scripts/bootstrap (scripts/run or scripts/test) to finish..."
    ]
    stamp = (tmp_path / ".venv" / ".requirements.sha256").read_text().strip()
    assert stamp == hashlib.sha256(b"# nothing to install\n").hexdigest()
    assert (tmp_path / ".venv" / "bin" / "python").exists()


def _serve(tmp_path: Path) -> list[str]:
    """Run scripts/run on a fresh SQLite file until daphne listens; return its output lines."""
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    port = _free_port()
    environment.update(SQLITE_PATH=str(tmp_path / "demo.sqlite3"), PORT=str(port), LOG_TO_FILES="0")
    run = subprocess.Popen(
        ["scripts/run"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    # A silent hang would block readline(): the deadline ends the process, and so the output.
    deadline = threading.Timer(240, run.kill)
    deadline.start()
    try:
        for line in run.stdout:
            lines.append(line.rstrip("\n"))
            if f"Listening on TCP address 127.0.0.1:{port}" in line:
                return lines
    finally:
        deadline.cancel()
        run.terminate()
        run.wait(timeout=30)
    raise AssertionError("scripts/run did not start serving:\n" + "\n".join(lines[-40:]))


def _logger(line: str) -> str | None:
    try:
        return json.loads(line)["logger"]
    except (ValueError, KeyError, TypeError):
        return None


def test_run_prints_the_demo_accounts_last_just_before_serving(tmp_path):
    lines = _serve(tmp_path)

    banner = next(i for i, line in enumerate(lines) if line.startswith("FLAME Assistant on"))
    assert lines[banner + 1 : banner + 5] == [
        "Demo workspace ready: FLAME Demo",
        "  admin: admin@flame-assistant.com / admin123",
        "  agent: agent@flame-assistant.com / agent123",
        "WARNING: these demo passwords are public. Change them (or delete the demo workspace) "
        "before exposing this instance.",
    ]
    # Everything before: the phases and the seed's task logging; after: only daphne starting.
    before, after = lines[:banner], [line for line in lines[banner + 5 :] if line]
    assert "==> Applying database migrations" in before
    assert "==> Seeding the demo workspace" in before
    assert "celery.app.trace" in {_logger(line) for line in before}
    assert {(_logger(line) or "").split(".")[0] for line in after} == {"daphne"}
