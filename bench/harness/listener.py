"""An admin's inbox socket, in a child process, timing every ``message:new`` it receives.

It behaves like the inbox's own client: sign in (``POST /api/auth/login``), open ``/ws/`` with
the ``["flame.jwt", <access>]`` subprotocol, and after every (re)connect read what it missed from
``GET /api/events?after=<last id>``, dropping repeats by event id. Each ``message:new`` is kept
as ``(external_id, event_id, monotonic time, "live" | "catchup")``; CLOCK_MONOTONIC is shared by
every process of the machine, so the parent compares these times with its send times directly.

The parent drives it through a pipe: ``collect`` (records since the last collect), ``catchup``
(read /api/events now, as a reconnecting client would) and ``stop``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import websockets

RECONNECT_SECONDS = 0.5


@dataclass
class Target:
    host: str
    http_port: int
    ws_port: int
    email: str
    password: str
    after: int  # the last event id that existed before the benchmark


@dataclass
class _State:
    last_id: int  # catch-up cursor: every event up to it has been read from /api/events
    seen: set = field(default_factory=set)
    records: list = field(default_factory=list)
    repeats: int = 0
    connects: list = field(default_factory=list)
    drops: list = field(default_factory=list)


class Listener:
    """Parent side: start the child, then ``collect()`` whenever the records are wanted."""

    def __init__(self, target: Target) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child_end = context.Pipe()
        self.process = context.Process(target=_child_main, args=(child_end, target), daemon=True)

    def start(self, timeout: float = 60.0) -> None:
        self.process.start()
        if not self._pipe.poll(timeout):
            raise SystemExit("the WebSocket listener did not connect")
        reply = self._pipe.recv()
        if reply[0] != "ready":
            raise SystemExit(f"the WebSocket listener failed: {reply}")

    def _ask(self, command: str, timeout: float = 120.0):
        self._pipe.send(command)
        if not self._pipe.poll(timeout):
            raise SystemExit(f"the WebSocket listener did not answer {command!r}")
        return self._pipe.recv()

    def collect(self) -> dict:
        return self._ask("collect")

    def catch_up(self) -> dict:
        return self._ask("catchup")

    def stop(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(OSError):
                self._pipe.send("stop")
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()


def _child_main(pipe, target: Target) -> None:
    asyncio.run(_Child(pipe, target).run())


class _Child:
    def __init__(self, pipe, target: Target) -> None:
        self.pipe = pipe
        self.target = target
        self.state = _State(last_id=target.after)
        self.token = ""
        self.stopping = asyncio.Event()
        self.ready_sent = False

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_reader(self.pipe.fileno(), lambda: asyncio.ensure_future(self._command()))
        socket_task = asyncio.create_task(self._keep_connected())
        await self.stopping.wait()
        socket_task.cancel()

    async def _command(self) -> None:
        try:
            if not self.pipe.poll():
                return
            command = self.pipe.recv()
        except (EOFError, OSError):
            command = "stop"  # the parent is gone
        if command == "stop":
            asyncio.get_running_loop().remove_reader(self.pipe.fileno())
            self.stopping.set()
            return
        if command == "catchup":
            await self._catch_up()
        self.pipe.send(self._drain())

    def _drain(self) -> dict:
        state = self.state
        reply = {
            "records": state.records,
            "repeats": state.repeats,
            "connects": list(state.connects),
            "drops": list(state.drops),
            "last_id": state.last_id,
        }
        state.records = []
        return reply

    async def _keep_connected(self) -> None:
        url = f"ws://{self.target.host}:{self.target.ws_port}/ws/"
        while True:
            try:
                self.token = await asyncio.to_thread(self._login)
                async with websockets.connect(
                    url, subprotocols=["flame.jwt", self.token], max_size=None, ping_interval=None
                ) as socket:
                    self.state.connects.append(time.monotonic())
                    await self._catch_up()
                    self._announce_ready()
                    async for frame in socket:
                        self._record(json.loads(frame), time.monotonic(), "live")
                    code = socket.close_code
                self.state.drops.append((time.monotonic(), f"closed {code}"))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: reconnect like the inbox does
                self.state.drops.append((time.monotonic(), f"{type(exc).__name__}: {exc}"[:200]))
                if not self.ready_sent and len(self.state.drops) > 40:
                    self.pipe.send(("failed", self.state.drops[-1][1]))
                    self.ready_sent = True
            await asyncio.sleep(RECONNECT_SECONDS)

    def _announce_ready(self) -> None:
        if not self.ready_sent:
            self.ready_sent = True
            self.pipe.send(("ready",))

    def _record(self, event: dict, at: float, source: str) -> None:
        event_id = event.get("id")
        if event_id is None:
            return
        if event_id in self.state.seen:
            self.state.repeats += 1
            return
        self.state.seen.add(event_id)
        if event.get("type") == "message:new":
            message = (event.get("data") or {}).get("message") or {}
            self.state.records.append(
                (message.get("external_id") or "", event_id, at, source, message.get("sender"))
            )

    async def _catch_up(self) -> None:
        while True:
            try:
                page = await asyncio.to_thread(self._events_page)
            except Exception as exc:  # noqa: BLE001 - retried at the next reconnect or catchup
                self.state.drops.append((time.monotonic(), f"catch-up failed: {exc}"[:200]))
                return
            at = time.monotonic()
            for event in page["results"]:
                self._record(event, at, "catchup")
            # The cursor moves only here: a live event never vouches for the ones before it.
            self.state.last_id = page["last_id"]
            if not page["has_more"]:
                return

    # --- blocking HTTP, run in a thread ---------------------------------------------------------

    def _http(self, method: str, path: str, body: dict | None = None, token: str = ""):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            f"http://{self.target.host}:{self.target.http_port}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers=headers,
            method=method,
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def _login(self) -> str:
        answer = self._http(
            "POST",
            "/api/auth/login",
            {"email": self.target.email, "password": self.target.password},
        )
        return answer.get("access") or answer["tokens"]["access"]

    def _events_page(self) -> dict:
        path = f"/api/events?after={self.state.last_id}&limit=500"
        try:
            return self._http("GET", path, token=self.token)
        except urllib.error.HTTPError as exc:
            if exc.code != 401:
                raise
            self.token = self._login()  # the access token expired during a long run
            return self._http("GET", path, token=self.token)
