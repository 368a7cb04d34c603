"""flame.cache.RedisCache: Django's Redis cache with one client per pool, on the real Redis."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import caches

pytestmark = pytest.mark.redis


@pytest.fixture
def cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "flame.cache.RedisCache",
            "LOCATION": django_settings.REDIS_URL,
            "KEY_PREFIX": "flame-cache-test",
        }
    }
    cache = caches["default"]
    cache.clear()
    yield cache
    cache.clear()


def test_the_client_is_made_once_and_commands_behave_as_djangos(cache):
    first = cache._cache.get_client(write=True)

    assert cache.add("trigger", 1, timeout=30) is True
    assert cache.add("trigger", 2, timeout=30) is False
    assert cache.get("trigger") == 1
    cache.set_many({"a": "uno", "b": ["dos"]})
    assert cache.get_many(["a", "b", "c"]) == {"a": "uno", "b": ["dos"]}
    assert cache.delete("trigger") is True
    assert cache.get("trigger", "gone") == "gone"
    assert cache._cache.get_client() is first  # reads and writes: the one server's pool
    assert cache._cache.get_client(write=True) is first


def test_a_dropped_connection_is_replaced_under_the_kept_client(cache):
    cache.set("kept", "sí", timeout=60)
    admin = redis.Redis.from_url(django_settings.REDIS_URL)
    mine = cache._cache.get_client(write=True).client_id()

    admin.client_kill_filter(_id=mine)

    assert cache.get("kept") == "sí"  # the pool opened a new connection
    assert cache._cache.get_client(write=True).client_id() != mine
    admin.close()


def test_with_redis_away_a_command_fails_and_the_next_one_tries_again(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "flame.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens on the discard port
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    away = caches["default"]

    for _ in range(2):
        with pytest.raises(redis.ConnectionError):
            away.add("trigger", 1, timeout=30)
