"""A small OpenAI-compatible HTTP server for tests.

Runs ``http.server`` in a thread on 127.0.0.1 with a free port; the real ``openai`` client talks
to it over a socket. It records every request (path, headers, JSON body) and answers
``POST /v1/chat/completions`` from a script of responses, falling back to a default reply;
a request with ``"stream": true`` gets the reply as server-sent chunks.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_REPLY = "¡Hola! Claro, con gusto te ayudo."


@dataclass
class Scripted:
    """One scripted answer: a chat reply, or an HTTP error, optionally after a delay."""

    content: str = DEFAULT_REPLY
    status: int = 200
    delay: float = 0.0
    prompt_tokens: int = 42
    completion_tokens: int = 8
    headers: dict[str, str] = field(default_factory=dict)
    raw_body: str | None = None


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, str]]:
        return self.body["messages"]

    @property
    def system_prompt(self) -> str:
        return self.messages[0]["content"]


def _completion_body(answer: Scripted, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": answer.prompt_tokens,
            "completion_tokens": answer.completion_tokens,
            "total_tokens": answer.prompt_tokens + answer.completion_tokens,
        },
    }


def _chunk(model: str, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def _error_body(status: int) -> dict[str, Any]:
    kind = "rate_limit_exceeded" if status == 429 else "server_error"
    return {"error": {"message": f"scripted {status}", "type": kind, "code": kind}}


class FakeOpenAI(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[Recorded] = []
        self.script: deque[Scripted] = deque()
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def then(self, *answers: Scripted) -> None:
        with self.lock:
            self.script.extend(answers)

    def next_answer(self) -> Scripted:
        with self.lock:
            return self.script.popleft() if self.script else Scripted()

    @property
    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI

    def log_message(self, format: str, *args) -> None:
        pass  # keep test output clean

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests.append(
            Recorded(
                path=self.path, headers={k.lower(): v for k, v in self.headers.items()}, body=body
            )
        )
        answer = self.server.next_answer()
        if answer.delay:
            time.sleep(answer.delay)
        if body.get("stream") and answer.status == 200 and answer.raw_body is None:
            self._stream(answer, body)
            return
        if answer.raw_body is not None:
            payload = answer.raw_body
        elif answer.status == 200:
            payload = json.dumps(_completion_body(answer, body.get("model", "")))
        else:
            payload = json.dumps(_error_body(answer.status))
        self._send(answer.status, payload, answer.headers)

    def _stream(self, answer: Scripted, body: dict[str, Any]) -> None:
        """Server-sent chunks as OpenAI streams them: one per word, the finish, the usage (when
        ``stream_options.include_usage`` asks for it), then ``[DONE]``."""
        model = body.get("model", "")
        words = answer.content.split(" ")
        pieces = [word if n == 0 else f" {word}" for n, word in enumerate(words)]
        chunks = [_chunk(model, {"content": piece}) for piece in pieces]
        chunks.append(_chunk(model, {}, finish_reason="stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {
                "prompt_tokens": answer.prompt_tokens,
                "completion_tokens": answer.completion_tokens,
                "total_tokens": answer.prompt_tokens + answer.completion_tokens,
            }
            chunks.append({**_chunk(model, {}), "choices": [], "usage": usage})
        events = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks)
        data = (events + "data: [DONE]\n\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send(self, status: int, payload: str, headers: dict[str, str]) -> None:
        data = payload.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and went away: that is what the test wanted


def start() -> tuple[FakeOpenAI, threading.Thread]:
    server = FakeOpenAI()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return server, thread
