"""A stand-in for the Graph API's send endpoint, so assistant replies are really delivered.

``python -m bench.harness.fake_graph <port>``: every POST is answered 200 with a fresh WhatsApp
message id (what ``integrations/providers/whatsapp/client.py`` reads); the product reaches it
through ``GRAPH_API_BASE_URL``. It counts nothing and sleeps never: the benchmark measures us.
"""

from __future__ import annotations

import itertools
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_ids = itertools.count(1)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = json.dumps(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": "bench", "wa_id": "bench"}],
                "messages": [{"id": f"wamid.out.{next(_ids)}"}],
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), _Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
