"""JSON-lines logging with request context and secret redaction.

Every record is one JSON object per line (time, level, logger, message, request id, user id,
workspace id, plus whatever ``extra`` the caller passed). Request context lives in contextvars so
it follows the request through sync and async code and into log calls made deep in services.
Values under keys that look like secrets are replaced before formatting, so a careless
``logger.info("...", extra={"payload": body})`` cannot leak a token.
"""

from __future__ import annotations

import collections
import contextvars
import itertools
import json
import logging
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
user_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("user_id", default=None)
workspace_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "workspace_id", default=None
)

REDACTED = "[redacted]"
_SECRET_KEY_PATTERN = re.compile(
    r"pass(word)?|secret|token|authorization|api[_-]?key|credential|cookie|signature|"
    r"access|refresh|private",
    re.IGNORECASE,
)
# Bearer tokens and JWT-looking strings inside free text.
_SECRET_TEXT_PATTERNS = [
    re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE),
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"),
    re.compile(r"(bot)\d{5,}:[A-Za-z0-9_-]{20,}"),
    re.compile(r"(flm_)[A-Za-z0-9_-]{16,}"),  # API keys (accounts/api_keys.py)
]
_STANDARD_ATTRIBUTES = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()) | {
    "message",
    "asctime",
    "taskName",
}


def redact(value: Any) -> Any:
    """Return ``value`` with secret-looking keys and token-looking substrings masked."""
    if isinstance(value, dict):
        return {
            key: REDACTED if _SECRET_KEY_PATTERN.search(str(key)) else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_text(text: str) -> str:
    for pattern in _SECRET_TEXT_PATTERNS:
        text = pattern.sub(lambda match: (match.group(1) or "") + REDACTED, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_text(record.getMessage()),
            "request_id": request_id_var.get(),
            "user_id": user_id_var.get(),
            "workspace_id": workspace_id_var.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = REDACTED if _SECRET_KEY_PATTERN.search(key) else redact(value)
        if record.exc_info:
            entry["exception"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


# --- the newest errors, for operators (GET /api/admin/logs) ---------------------------------------

RECENT_ERRORS_KEY = "flame:recent-errors"
RECENT_ERRORS_SIZE = 200


class _MemoryStore:
    def __init__(self, size: int) -> None:
        self._lines: collections.deque[str] = collections.deque(maxlen=size)
        self._lock = threading.Lock()

    def push(self, line: str) -> None:
        with self._lock:
            self._lines.appendleft(line)

    def newest(self, limit: int) -> list[str]:
        with self._lock:
            return list(itertools.islice(self._lines, limit))

    def clear(self) -> None:
        with self._lock:
            self._lines.clear()


class _RedisStore:
    """One bounded list shared by every process (web, sockets, workers)."""

    def __init__(self, url: str, size: int) -> None:
        import redis

        # Short timeouts: logging an error must never wait on a Redis that is away.
        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._size = size

    def push(self, line: str) -> None:
        pipeline = self._redis.pipeline()
        pipeline.lpush(RECENT_ERRORS_KEY, line)
        pipeline.ltrim(RECENT_ERRORS_KEY, 0, self._size - 1)
        pipeline.execute()

    def newest(self, limit: int) -> list[str]:
        return [line.decode() for line in self._redis.lrange(RECENT_ERRORS_KEY, 0, limit - 1)]

    def clear(self) -> None:
        self._redis.delete(RECENT_ERRORS_KEY)


_stores: dict[str, _MemoryStore | _RedisStore] = {}
_stores_lock = threading.Lock()


def recent_errors_store(redis_url: str = "") -> _MemoryStore | _RedisStore:
    """The store of ``redis_url`` (Redis), or this process's memory without one."""
    with _stores_lock:
        if redis_url not in _stores:
            size = RECENT_ERRORS_SIZE
            _stores[redis_url] = _RedisStore(redis_url, size) if redis_url else _MemoryStore(size)
        return _stores[redis_url]


def recent_errors(*, redis_url: str = "", limit: int = 100) -> list[dict[str, Any]]:
    """The newest error-level entries, newest first, as the JSON formatter wrote (and
    redacted) them."""
    return [json.loads(line) for line in recent_errors_store(redis_url).newest(limit)]


class RecentErrorsHandler(logging.Handler):
    """Keeps the newest ERROR records, formatted and redacted like every log line, in a
    bounded store. Losing an entry (Redis away) is acceptable; failing a request is not."""

    def __init__(self, redis_url: str = "", level: int | str = logging.ERROR) -> None:
        super().__init__(level=level)
        self.redis_url = redis_url
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            recent_errors_store(self.redis_url).push(self.format(record))
        except Exception:  # noqa: BLE001 - see the docstring
            self.handleError(record)


def _file_handler(path: Path, level: str) -> dict[str, Any]:
    return {
        "class": "logging.handlers.RotatingFileHandler",
        "filename": str(path),
        "maxBytes": 10 * 1024 * 1024,
        "backupCount": 5,
        "encoding": "utf-8",
        "formatter": "json",
        "level": level,
        # Opening the file lazily keeps `import settings` free of side effects for tools that
        # never log (ruff, makemigrations --check in a read-only checkout).
        "delay": True,
    }


def build_logging_config(
    *, level: str, log_dir: Path | None, recent_errors_url: str = ""
) -> dict[str, Any]:
    handlers: dict[str, Any] = {
        "stdout": {"class": "logging.StreamHandler", "formatter": "json", "level": level},
        # The newest errors for operators: Redis when there is one (every process's), else
        # this process's memory.
        "recent_errors": {
            "()": "flame.logging.RecentErrorsHandler",
            "redis_url": recent_errors_url,
            "level": "ERROR",
        },
    }
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers["combined"] = _file_handler(log_dir / "combined.log", level)
        handlers["error"] = _file_handler(log_dir / "error.log", "ERROR")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "flame.logging.JsonFormatter"}},
        "handlers": handlers,
        "root": {"handlers": list(handlers), "level": level},
        "loggers": {
            # Our request log line replaces Django's, which would log 4xx twice as warnings.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
            "django.db.backends": {"level": "WARNING"},
            # urllib3 debug lines print request URLs (Telegram's carry the bot token).
            "urllib3": {"level": "WARNING"},
        },
    }
