"""A calendar server on a local port, as a public-holiday feed is served: each path answers
with the status, body and headers a test sets (404 for any other path), and the requests it
received are kept."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    declare_length: bool = True  # False: the body ends when the connection closes


@dataclass
class CalendarServer:
    base_url: str = ""
    answers: dict[str, Answer] = field(default_factory=dict)
    requested: list[str] = field(default_factory=list)

    def serve(
        self,
        path: str,
        body: bytes,
        status: int = 200,
        *,
        declare_length: bool = True,
        **headers: str,
    ) -> str:
        """Answer ``path`` with ``body``; its address."""
        self.answers[path] = Answer(body, status, headers, declare_length)
        return f"{self.base_url}{path}"


@contextmanager
def running() -> Iterator[CalendarServer]:
    state = CalendarServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requested.append(self.path)
            answer = state.answers.get(self.path, Answer(b"not here", 404))
            self.send_response(answer.status)
            for name, value in {"Content-Type": "text/calendar", **answer.headers}.items():
                self.send_header(name, value)
            if answer.declare_length:
                self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, *args) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def ics(*events: str) -> bytes:
    """A calendar with these VEVENT bodies (lines without BEGIN/END), CRLF as RFC 5545 says."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//FLAME tests//EN"]
    for number, event in enumerate(events):
        body = [line.strip() for line in event.strip().splitlines()]
        if not any(line.startswith("UID:") for line in body):
            body.insert(0, f"UID:event-{number}@tests")
        lines += ["BEGIN:VEVENT", "DTSTAMP:20250101T000000Z", *body, "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()
