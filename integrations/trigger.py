"""One thread per process asks for the ingest task, on behalf of every webhook it stores.

Under sustained traffic each acknowledgement used to ask Redis itself whether a drain task was
already on its way (``SET NX``), and nearly always one was: a round trip to Redis on the web
server's busiest path, about a tenth of an acknowledgement's CPU, for an answer that hardly
changes within a few milliseconds. A webhook now only marks that it wants a task (a flag, no
I/O) and this process's trigger thread asks, once for all the webhooks marked since it last did.

What keeps every stored event claimed is unchanged: a drain task claims every event committed
before it starts, and each event is asked for after its commit. The thread asks at once when
marked, unless its last answer still holds:

- it enqueued a task that lingers (starts ``linger`` seconds later): until half of that, any
  event committed now is claimed by that task;
- a task was already pending: it asks again ``RECHECK_SECONDS`` later (that task may have
  started meanwhile, and events committed after its claim need the next one);
- the broker or cache was away: again ``AWAY_SECONDS`` later (the sweeper covers the rest).

The answer ("send") is the caller's: it returns how long it holds.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

RECHECK_SECONDS = 0.02
AWAY_SECONDS = 1.0

# (event id, linger) -> seconds during which no other ask is needed
Send = Callable[[int, float | None], float]


class ProcessTrigger:
    """Coalesces the asks of one process into a thread of its own (started on first use in
    each process: a forked web worker gets its own)."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._lock = threading.Lock()
        self._wanted = threading.Event()
        self._latest: tuple[int, float | None] | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0

    def request(self, event_id: int, linger: float | None) -> None:
        """Ask for a task that claims ``event_id`` (committed already); returns at once."""
        with self._lock:
            self._latest = (event_id, linger)
            self._ensure_thread()
        self._wanted.set()

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        first_in_process = self._pid != os.getpid()
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="ingest-trigger", daemon=True)
        self._thread.start()
        if first_in_process:
            # A process that exits cleanly (a web worker recycled) asks for what it marked.
            atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            pause = self.flush()
            if pause > 0:
                time.sleep(pause)

    def flush(self) -> float:
        """Ask now for whatever was marked; how long the answer holds (0: nothing marked)."""
        with self._lock:
            if not self._wanted.is_set() or self._latest is None:
                return 0.0
            self._wanted.clear()
            event_id, linger = self._latest
        try:
            return self._send(event_id, linger)
        except Exception:  # never let the thread die; the sweeper is the net
            logger.exception("The ingest trigger failed")
            return AWAY_SECONDS
