"""A small asyncio HTTP/1.1 client and the open- and closed-loop load generators.

Hand-written on asyncio streams rather than httpx: the generator shares two cores with the
servers it measures, and a request here costs a few tens of microseconds of Python. Keep-alive
connections are reused most-recently-used first (like nginx's upstream pool), so the set of
warm connections stays small and idle ones are left for the server to close.

Open loop: request ``i`` is due at ``start + i / rate`` whatever happened to the others, and its
latency counts from that due time, so a stalled server cannot hide behind a slowed client.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# Status recorded when no HTTP status came back.
CONNECTION_FAILED = 599
TIMED_OUT = 598


@dataclass(frozen=True)
class Request:
    path: str
    body: bytes
    headers: dict[str, str]
    method: str = "POST"


@dataclass
class Result:
    index: int
    due: float  # time.monotonic() when the request was due
    wall_due: float  # time.time() at the same moment (to compare with database timestamps)
    sent: float = 0.0
    done: float = 0.0
    status: int = 0

    @property
    def latency_ms(self) -> float:
        return (self.done - self.due) * 1000


@dataclass
class HttpPool:
    host: str
    port: int
    limit: int = 512
    timeout: float = 30.0
    idle_seconds: float = 4.0  # below gunicorn's --keep-alive 5
    _idle: list = field(default_factory=list)
    _slots: asyncio.Semaphore | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        return self._slots

    async def request(self, request: Request) -> int:
        async with self._semaphore():
            connection = self._warm_connection()
            if connection is not None:
                outcome = await self._exchange(connection, request)
                if outcome is not None:
                    return outcome
                # The server closed that keep-alive connection meanwhile: once more, fresh.
            try:
                connection = await self._connect()
            except (OSError, TimeoutError):
                return CONNECTION_FAILED
            outcome = await self._exchange(connection, request)
            return CONNECTION_FAILED if outcome is None else outcome

    async def spread(self, count: int, path: str, processes: int, attempts: int = 400) -> dict:
        """Hold ``count`` idle connections, as many served by each of the server's
        ``processes`` (``path`` answers with the id of the process that serves it).

        A closed loop reuses its connections, and which server process accepted each one is up
        to the kernel: all 16 could land on one gunicorn process, whose one interpreter lock
        then caps the phase at one core while the other waits idle. A proxy in front of the
        servers spreads them; so does this, and then every phase runs on the same placement.
        Returns how many connections each process holds.
        """
        self.close()
        share = count // processes
        placed: dict[str, list] = {}
        surplus = []
        for _ in range(attempts):
            if sum(len(held) for held in placed.values()) >= share * processes:
                break
            connection = await self._connect()
            held = placed.setdefault(await self._owner(connection, path), [])
            (held if len(held) < share else surplus).append(connection)
        placed.pop("", None)  # connections that did not answer: never reused
        for _, writer in surplus:  # held open until now so they did not free an accept
            writer.close()
        now = time.monotonic()
        self._idle = [(connection, now) for held in placed.values() for connection in held]
        return {owner: len(held) for owner, held in placed.items()}

    async def _owner(self, connection, path: str) -> str:
        """What ``path`` answers on this connection ("" if it did not)."""
        reader, writer = connection
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode())
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.timeout)
            length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
            return (await reader.readexactly(length)).decode()
        except (OSError, TimeoutError, IndexError, ValueError, asyncio.IncompleteReadError):
            return ""

    def _warm_connection(self):
        """The most recently used idle connection, if the server has not timed it out yet."""
        while self._idle:
            connection, used_at = self._idle.pop()
            if time.monotonic() - used_at < self.idle_seconds:
                return connection
            connection[1].close()
        return None

    async def _connect(self):
        return await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.timeout)

    async def _exchange(self, connection, request: Request) -> int | None:
        reader, writer = connection
        try:
            writer.write(self._encode(request))
            status, keep_alive = await asyncio.wait_for(_read_response(reader), self.timeout)
        except TimeoutError:
            writer.close()
            return TIMED_OUT
        except (OSError, asyncio.IncompleteReadError, ValueError):
            writer.close()
            return None
        if keep_alive:
            self._idle.append((connection, time.monotonic()))
        else:
            writer.close()
        return status

    def _encode(self, request: Request) -> bytes:
        lines = [
            f"{request.method} {request.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Content-Length: {len(request.body)}",
            *(f"{name}: {value}" for name, value in request.headers.items()),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + request.body

    def close(self) -> None:
        while self._idle:
            self._idle.pop()[0][1].close()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip().lower()
    if headers.get("transfer-encoding") == "chunked":
        await _skip_chunked(reader)
    else:
        await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers.get("connection") != "close"


async def _skip_chunked(reader: asyncio.StreamReader) -> None:
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        await reader.readexactly(size + 2)
        if size == 0:
            return


async def open_loop(
    pool: HttpPool, requests: Sequence[Request], rate: float, *, lead: float = 0.2
) -> list[Result]:
    """Send ``requests`` at ``rate`` per second, each at its due time, never waiting for answers."""
    loop = asyncio.get_running_loop()
    start = loop.time() + lead
    wall_offset = time.time() - time.monotonic()
    results = [
        Result(i, start + i / rate, start + i / rate + wall_offset) for i in range(len(requests))
    ]
    tasks = []
    for result, request in zip(results, requests, strict=True):
        delay = result.due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_timed(pool, request, result)))
    await asyncio.gather(*tasks)
    return results


async def _timed(pool: HttpPool, request: Request, result: Result) -> None:
    result.sent = time.monotonic()
    result.status = await pool.request(request)
    result.done = time.monotonic()


async def closed_loop(
    pool: HttpPool, make: Callable[[int], Request], seconds: float, clients: int = 16
) -> list[Result]:
    """``clients`` connections, each sending its next request as soon as the last is answered."""
    stop = time.monotonic() + seconds
    counter = iter(range(10**9))
    results: list[Result] = []
    wall_offset = time.time() - time.monotonic()

    async def client() -> None:
        while time.monotonic() < stop:
            index = next(counter)
            now = time.monotonic()
            result = Result(index, now, now + wall_offset)
            await _timed(pool, make(index), result)
            results.append(result)

    await asyncio.gather(*(client() for _ in range(clients)))
    return results
