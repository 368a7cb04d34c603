"""Requests to addresses our customers type (SSRF): only public addresses over http(s), and the
request goes to exactly the address that was checked.

``resolve`` checks a URL and the addresses its host resolves to; ``pool`` opens a connection to
that very address (TLS still checked against the host name), so a name that resolves to a
public address when checked and to 127.0.0.1 a moment later (DNS rebinding) still reaches only
the checked one. ``allow_private`` lets tests and on-premise setups use private, loopback and
link-local addresses; each caller reads its own setting for it (outgoing webhooks, holiday
feeds).

``fetch`` is a bounded GET over that path: explicit timeouts and an overall deadline, a size
cap, and each redirect checked like the first address. Shared by the apps that fetch or post
to such addresses (``outgoing_webhooks``, the holiday feeds of ``accounts``).
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from ipaddress import ip_address
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the IP the request goes to


class TargetRefused(Exception):
    """Why no request goes there; ``retryable`` when it may work later (DNS)."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class FetchFailed(Exception):
    """Why a fetch brought nothing back, in words a person can act on."""


def is_public(address: str) -> bool:
    ip = ip_address(address)
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _addresses(host: str, port: int) -> list[str]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused("The host name does not resolve.", retryable=True) from exc
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def resolve(url: str, *, allow_private: bool) -> Target:
    """The target of ``url``, or TargetRefused naming why not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("Use an http or https address.")
    if parts.username or parts.password:
        raise TargetRefused("Leave credentials out of the address.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise TargetRefused("The port is not valid.") from exc
    addresses = _addresses(parts.hostname, port)
    if not addresses:
        raise TargetRefused("The host name does not resolve.")
    if not allow_private and not all(is_public(address) for address in addresses):
        raise TargetRefused("Private, loopback and link-local addresses are not allowed.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, parts.hostname, port, path, addresses[0])


def pool(target: Target, *, connect: float, read: float) -> urllib3.HTTPConnectionPool:
    """A one-connection pool to the checked address; no retries, no redirects of its own."""
    timeout = urllib3.Timeout(connect=connect, read=read)
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


def host_header(target: Target) -> str:
    default = 443 if target.scheme == "https" else 80
    return target.host if target.port == default else f"{target.host}:{target.port}"


@dataclass(frozen=True)
class FetchLimits:
    allow_private: bool
    max_bytes: int
    timeout: float  # to connect, and between two reads
    deadline: float  # the whole fetch, redirects included
    max_redirects: int = 3


REDIRECTS = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024


def fetch(url: str, limits: FetchLimits, headers: dict[str, str] | None = None) -> bytes:
    """GET ``url`` (following a few redirects, each checked) and return the body, or raise
    FetchFailed. Never more than ``max_bytes`` is read, nor for longer than ``deadline``."""
    give_up_at = time.monotonic() + limits.deadline
    for _ in range(limits.max_redirects + 1):
        try:
            target = resolve(url, allow_private=limits.allow_private)
        except TargetRefused as exc:
            raise FetchFailed(str(exc)) from exc
        status, location, body = _get(target, limits, headers or {}, give_up_at)
        if status in REDIRECTS and location:
            url = urljoin(url, location)
            continue
        if status != 200:
            raise FetchFailed(f"The server answered {status}.")
        return body
    raise FetchFailed("Too many redirects.")


def _get(
    target: Target, limits: FetchLimits, headers: dict[str, str], give_up_at: float
) -> tuple[int, str, bytes]:
    connection = pool(target, connect=limits.timeout, read=limits.timeout)
    try:
        response = connection.urlopen(
            "GET",
            target.path,
            headers={**headers, "Host": host_header(target)},
            redirect=False,
            assert_same_host=False,
            preload_content=False,
        )
        try:
            if response.status != 200:
                return response.status, response.headers.get("Location", ""), b""
            return 200, "", _read_capped(response, limits.max_bytes, give_up_at)
        finally:
            response.release_conn()
    except urllib3.exceptions.TimeoutError as exc:
        raise FetchFailed("Timed out.") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise FetchFailed(f"Could not connect: {type(exc).__name__}.") from exc
    finally:
        connection.close()


def _read_capped(response: urllib3.BaseHTTPResponse, max_bytes: int, give_up_at: float) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchFailed(f"The file is larger than {max_bytes} bytes.")
    body = bytearray()
    for chunk in response.stream(CHUNK):
        body += chunk
        if len(body) > max_bytes:
            raise FetchFailed(f"The file is larger than {max_bytes} bytes.")
        if time.monotonic() > give_up_at:
            raise FetchFailed("Timed out.")
    return bytes(body)
