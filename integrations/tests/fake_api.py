"""A small real HTTP server standing in for the Graph API and the Telegram Bot API.

Our real ``requests`` code talks to it over a socket. Tests script responses per route
(``respond``), optionally delayed past the client's read timeout, and inspect every request
received (``calls``). A response body given as bytes is sent as it is (a file download); a
multipart request (a file upload) is read back with ``Call.form()``.
"""

from __future__ import annotations

import email
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Part:
    """One field of a multipart request: its text, or a file's name, type and bytes."""

    value: str = ""
    filename: str | None = None
    content_type: str = ""
    content: bytes = b""


@dataclass
class Call:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    raw: bytes = b""

    def form(self) -> dict[str, Part]:
        """The fields of a multipart/form-data request, by name."""
        head = f"Content-Type: {self.headers.get('Content-Type', '')}\r\n\r\n".encode()
        message = email.message_from_bytes(head + self.raw)
        fields = {}
        for part in message.walk():
            name = part.get_param("name", header="content-disposition")
            if not name:
                continue
            content = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            text = "" if filename else content.decode()
            fields[str(name)] = Part(text, filename, part.get_content_type(), content)
        return fields


@dataclass
class Scripted:
    method: str
    pattern: re.Pattern
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    times: int | None = None  # None: every time


class FakeApi:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._scripts: list[Scripted] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def respond(
        self,
        method: str,
        path_regex: str,
        *,
        status: int = 200,
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        times: int | None = None,
    ) -> None:
        """Answer requests whose path matches ``path_regex``; the newest matching script wins."""
        with self._lock:
            self._scripts.insert(
                0,
                Scripted(
                    method.upper(),
                    re.compile(path_regex),
                    status,
                    body if body is not None else {},
                    headers or {},
                    delay,
                    times,
                ),
            )

    def calls_to(self, path_regex: str) -> list[Call]:
        pattern = re.compile(path_regex)
        return [call for call in self.calls if pattern.search(call.path)]

    def _pick(self, method: str, path: str) -> Scripted | None:
        with self._lock:
            for script in self._scripts:
                if script.method == method and script.pattern.search(path):
                    if script.times is not None:
                        if script.times <= 0:
                            continue
                        script.times -= 1
                    return script
        return None

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                path, _, query = self.path.partition("?")
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                fake.calls.append(Call(self.command, path, query, dict(self.headers), body, raw))
                script = fake._pick(self.command, path)
                if script is None:
                    self._send(
                        404,
                        {"error": {"message": f"no script for {self.command} {path}", "code": 803}},
                        {},
                    )
                    return
                if script.delay:
                    time.sleep(script.delay)
                self._send(script.status, script.body, script.headers)

            def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
                raw = isinstance(body, bytes)
                payload = body if raw else json.dumps(body).encode()
                headers = {
                    "Content-Type": "application/octet-stream" if raw else "application/json",
                    **headers,
                }
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (read timeout tests)

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

            def log_message(self, *args) -> None:
                return

        return Handler
