"""One HTTP try of a delivery: to the address ``targets`` checked, with explicit timeouts, no
redirects, and only the first kilobyte of the answer read."""

from __future__ import annotations

import time
from dataclasses import dataclass

import certifi
import urllib3
from django.conf import settings

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


def _pool(target: targets.Target) -> urllib3.HTTPConnectionPool:
    timeout = urllib3.Timeout(
        connect=settings.OUTGOING_WEBHOOKS_CONNECT_TIMEOUT,
        read=settings.OUTGOING_WEBHOOKS_READ_TIMEOUT,
    )
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
        )
    return urllib3.HTTPConnectionPool(
        target.address, target.port, timeout=timeout, retries=False, maxsize=1
    )


def _host_header(target: targets.Target) -> str:
    default = 443 if target.scheme == "https" else 80
    return target.host if target.port == default else f"{target.host}:{target.port}"


def post(url: str, body: bytes, headers: dict[str, str]) -> Result:
    started = time.perf_counter()

    def elapsed() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        target = targets.resolve(url)
    except targets.TargetRefused as exc:
        return Result(None, elapsed(), str(exc), retryable=exc.retryable)
    pool = _pool(target)
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": _host_header(target)},
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
