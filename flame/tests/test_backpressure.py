"""flame.backpressure: the mark a burst of ingestion leaves for background work to wait on."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from flame import backpressure


@pytest.fixture
def unmarked():
    cache.delete(backpressure.INGESTION_BUSY_KEY)
    yield
    cache.delete(backpressure.INGESTION_BUSY_KEY)


def test_a_backlog_marks_ingestion_busy_until_the_mark_runs_out(unmarked, monkeypatch):
    monkeypatch.setattr(backpressure, "INGESTION_BUSY_SECONDS", 1)
    assert not backpressure.ingestion_busy()

    backpressure.ingestion_backlogged()

    assert backpressure.ingestion_busy()
    time.sleep(1.2)  # no batch renewed it: the burst is over
    assert not backpressure.ingestion_busy()


def test_with_redis_away_nothing_is_marked_nothing_waits_and_nothing_raises(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "flame.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }

    backpressure.ingestion_backlogged()

    assert not backpressure.ingestion_busy()
