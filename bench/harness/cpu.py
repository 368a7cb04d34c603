"""Where the CPU went during a phase: per component (process trees), and the whole machine.

Reads ``/proc/<pid>/stat`` (utime + stime) for every process of a component at the start and
the end of a phase. The machine's busy share (``/proc/stat``) is printed beside it, so load that
is not ours (other jobs on a shared machine) shows as the difference.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


def process_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and of its children that have exited and been reaped (a Celery
    pool process replaced after --max-memory-per-child, a gunicorn worker after
    --max-requests): their time lands in the parent's cutime and cstime."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return sum(int(value) for value in fields[11:15]) / TICKS  # utime, stime, cutime, cstime


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children.get(current, []))
    return found


def machine_busy() -> tuple[float, float]:
    """(busy seconds, total seconds) of all cores since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])
    return (total - idle) / TICKS, total / TICKS


class CpuMeter:
    """``components`` maps a name to a function returning that component's pids right now.

    ``trees`` names the components whose processes are a tree whose leader reaps them (our
    servers): a process that exits during the phase is then counted through its parent's
    cutime, minus what it had used before the phase. Elsewhere (PostgreSQL backends, reaped by
    the postmaster) an exited process's time is simply not counted.
    """

    def __init__(
        self, components: dict[str, Callable[[], list[int]]], trees: frozenset = frozenset()
    ) -> None:
        self.components = components
        self.trees = trees
        self._start: dict[str, dict[int, float]] = {}
        self._machine = (0.0, 0.0)
        # Per process of each component over the last phase, busiest first (``split``).
        self.by_process: dict[str, list[float]] = {}

    def split(self, name: str, wall: float, top: int = 2) -> str:
        """The busiest ``top`` processes of a component over the last phase, in cores ("0.98 +
        0.31"): with one GIL per process, a server whose connections all landed on one process
        cannot use more than one core, whatever the machine has free."""
        return " + ".join(f"{seconds / wall:.2f}" for seconds in self.by_process[name][:top])

    def _sample(self) -> dict[str, dict[int, float]]:
        return {
            name: {pid: process_seconds(pid) for pid in pids()}
            for name, pids in self.components.items()
        }

    def start(self) -> None:
        self._start = self._sample()
        self._machine = machine_busy()

    def stop(self) -> dict[str, float]:
        """CPU seconds per component since ``start`` (processes that exited in between are
        missed; new ones count from zero), plus ``machine`` busy seconds and ``wall``."""
        end = self._sample()
        busy, total = machine_busy()
        used = {}
        for name, pids in end.items():
            before = self._start.get(name, {})
            each = [max(0.0, seconds - before.get(pid, 0.0)) for pid, seconds in pids.items()]
            used[name] = sum(each)
            self.by_process[name] = sorted(each, reverse=True)
            if name in self.trees:
                gone = sum(seconds for pid, seconds in before.items() if pid not in pids)
                used[name] = max(0.0, used[name] - gone)
        used["machine"] = busy - self._machine[0]
        used["wall"] = (total - self._machine[1]) / CORES
        return used


def describe(used: dict[str, float]) -> str:
    """ "gunicorn 0.61 cores, celery 0.52, ... | machine 1.83 of 2" over the phase's wall time."""
    wall = used.get("wall") or 1.0
    parts = [
        f"{name} {seconds / wall:.2f}"
        for name, seconds in used.items()
        if name not in ("machine", "wall")
    ]
    others = used["machine"] - sum(
        seconds for name, seconds in used.items() if name not in ("machine", "wall")
    )
    return (
        "cores used: "
        + ", ".join(parts)
        + f"; not ours {max(0.0, others) / wall:.2f}"
        + f"; machine {used['machine'] / wall:.2f} of {CORES}"
    )
