"""One HTTP try of a delivery: to the address ``targets`` checked, with explicit timeouts, no
redirects, and only the first kilobyte of the answer read."""

from __future__ import annotations

import time
from dataclasses import dataclass

import urllib3
from django.conf import settings

from flame import net
from outgoing_webhooks import targets

RETRYABLE_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class Result:
    status_code: int | None
    duration_ms: int
    error: str = ""
    retryable: bool = False

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, body: bytes, headers: dict[str, str]) -> Result:
    started = time.perf_counter()

    def elapsed() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        target = targets.resolve(url)
    except targets.TargetRefused as exc:
        return Result(None, elapsed(), str(exc), retryable=exc.retryable)
    pool = net.pool(
        target,
        connect=settings.OUTGOING_WEBHOOKS_CONNECT_TIMEOUT,
        read=settings.OUTGOING_WEBHOOKS_READ_TIMEOUT,
    )
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": net.host_header(target)},
            redirect=False,
            assert_same_host=False,
            preload_content=False,
        )
        response.read(1024)
        response.release_conn()
    except urllib3.exceptions.TimeoutError:
        return Result(None, elapsed(), "Timed out.", retryable=True)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return Result(None, elapsed(), f"Could not connect: {type(exc).__name__}.", retryable=True)
    finally:
        pool.close()
    status = response.status
    retryable = status >= 500 or status in RETRYABLE_STATUSES
    error = "" if 200 <= status < 300 else f"The receiver answered {status}."
    return Result(status, elapsed(), error, retryable=retryable)
