"""Helpers for tests that need real concurrency (threads with their own DB connections)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def race(target: Callable[[int], Any], count: int) -> list:
    """Run ``target(n)`` in ``count`` threads released at the same instant; return the results.

    Each thread uses (and closes) its own database connection, so the calls really are
    concurrent transactions. Any exception fails the calling test.
    """
    barrier = threading.Barrier(count)
    results: list = []
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            results.append(target(n))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    return results
