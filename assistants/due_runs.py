"""Bulk runs that schedule themselves: reply decisions and conversation analyses.

A burst of customer messages owes many pieces of work that fall due seconds later. Instead of
one countdown task each (thousands of timers held by the worker, each a task of its own), the
work is marked due in the database and one task does everything due when it runs, then asks
for the next run. ``DueRun`` keeps that to about one scheduled run per kind: the cache holds
the time of the run already on its way, and a request for a later (or the same) time is
already served by it. A run that finds it is the registered one clears the key first, so work
marked due while it runs asks for a run of its own. Races between workers only ever add a
spare run, which finds nothing due; a run lost with the broker is covered by the key's expiry
and by the periodic sweeps (Celery beat).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.core.cache import cache

# Runs asked for within this much of each other are one run (what the work may wait extra).
TICK_SECONDS = 0.25
# The key outlives its run by this much, so a lost run stops blocking new ones soon after.
KEY_GRACE_SECONDS = 60


@dataclass(frozen=True)
class DueRun:
    key: str

    def request(self, task, *, delay: float) -> None:
        """Make sure ``task`` runs within ``delay`` seconds (plus a tick) from now."""
        at = math.ceil((time.time() + max(delay, 0.0)) / TICK_SECONDS) * TICK_SECONDS
        registered = cache.get(self.key)
        if registered is not None and registered <= at:
            return
        wait = max(at - time.time(), 0.0)
        cache.set(self.key, at, timeout=math.ceil(wait) + KEY_GRACE_SECONDS)
        task.apply_async(kwargs={"at": at}, countdown=wait)

    def started(self, at: float | None) -> None:
        """The run registered for ``at`` has begun: the next request schedules a new one."""
        if at is not None and cache.get(self.key) == at:
            cache.delete(self.key)


REPLY_DECISIONS = DueRun("auto-reply-decisions-run")
ANALYSES = DueRun("analyses-due-run")
