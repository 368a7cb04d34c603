"""What every long-running process does once it has started (gunicorn and daphne workers,
Celery's pool processes).

Python's full (oldest-generation) garbage collection walks every tracked object. After
start-up a process holds about 270,000 of them (settings, URLconf, models, serializers,
libraries), all alive for the process's life, so each full collection took 150 to 170 ms with
the GIL held: every request or task in that process stopped meanwhile, often enough to be a
webhook acknowledgement's p99. ``gc.freeze()`` moves them into the permanent generation, which
no collection visits; a full collection then took 7 ms. The cost is that garbage among the
frozen objects is never collected, and nothing created at start-up is meant to become garbage.
"""

from __future__ import annotations

import gc


def startup_objects_frozen() -> None:
    """Leave everything alive now out of every future garbage collection."""
    gc.collect()  # what start-up already dropped is freed, not frozen
    gc.freeze()
