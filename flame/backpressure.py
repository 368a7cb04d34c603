"""Customer-facing work first: ingestion says when a burst is on, background work waits for it.

Under a burst the worker's processes shared their time between storing customer messages (what
agents are watching for) and analysing conversations (summaries, priorities and tags, already
debounced by seconds). Every analysis started during the burst slowed the messages behind it.
Now an ingestion batch that finds a backlog marks ingestion busy for a short while, and the
analyses run (``assistants.tasks.analysis_due_task``) wait while the mark is there, up to a
bound, so nothing waits forever under a load that never ends. Nothing is dropped: the analyses
stay due in the database and run once the burst is over.

The mark lives in the shared cache (one SET per batch, one GET per analyses run). With Redis
away nothing is marked and nothing waits.
"""

from __future__ import annotations

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)

INGESTION_BUSY_KEY = "backpressure:ingestion-busy"
# How long one batch keeps the mark: the next batch of a burst renews it well before.
INGESTION_BUSY_SECONDS = 2


def ingestion_backlogged() -> None:
    """An ingestion batch found more waiting than it takes at a time when there is no burst."""
    try:
        cache.set(INGESTION_BUSY_KEY, 1, timeout=INGESTION_BUSY_SECONDS)
    except Exception:  # a hint: ingestion must not fail for it
        logger.debug("Could not mark ingestion busy", exc_info=True)


def ingestion_busy() -> bool:
    """Whether a burst is being ingested now (False when that cannot be known)."""
    try:
        return cache.get(INGESTION_BUSY_KEY) is not None
    except Exception:  # not knowing is not being busy
        logger.debug("Could not read the ingestion mark", exc_info=True)
        return False
