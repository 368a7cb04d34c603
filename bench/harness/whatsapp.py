"""WhatsApp Cloud API webhook bodies, serialised and signed the way Meta sends them.

Each body carries one customer text message with a unique ``wamid`` (``wamid.bench.<run>.<n>``)
so the benchmark can follow every message from its POST to its ``message:new``. Meta escapes
non-ASCII as ``\\uXXXX`` and ``/`` as ``\\/``; the signature is HMAC-SHA256 of those exact bytes
with the app secret (``X-Hub-Signature-256: sha256=<hex>``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random

from bench.harness.http import Request

APP_SECRET = "bench-app-secret-4c1f"
PHONE_NUMBER_ID = "113948276501234"
WABA_ID = "104729835612345"
WEBHOOK_PATH = "/api/webhooks/whatsapp"

TEXTS = (
    "Hola, ¿tienen disponible la mesa de café de nogal en tamaño pequeño?",
    "Buenas tardes, quiero cambiar la dirección de entrega de mi pedido",
    "¿A qué hora abren el sábado?",
    "Gracias, ya me llegó el paquete 😊",
    "Necesito la factura del pedido, por favor",
    "¿Hacen envíos a Guadalajara?",
)


def message_id(run: str, n: int) -> str:
    return f"wamid.bench.{run}.{n}"


def customer(n: int, customers: int, seed: int) -> int:
    """Which customer sends message ``n``: random but repeatable, so customers write in bursts
    and pauses like people do (a fixed rotation would make every conversation equally busy)."""
    return random.Random(seed * 1_000_003 + n).randrange(customers)


def body(
    run: str, n: int, *, customers: int, seed: int = 1, who: int | None = None, timestamp: int = 0
) -> bytes:
    """Message ``n`` of ``run`` from customer ``who`` (default: a random one of ``customers``)."""
    who = customer(n, customers, seed) if who is None else who
    timestamp = timestamp or 1789482605 + n // 100
    wa_id = f"52155{who:08d}"
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "525512340000",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [{"profile": {"name": f"Cliente {who}"}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": message_id(run, n),
                                    "timestamp": str(timestamp),
                                    "type": "text",
                                    "text": {"body": f"{TEXTS[n % len(TEXTS)]} (#{n})"},
                                }
                            ],
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }
    return json.dumps(payload).replace("/", "\\/").encode()


def signature(raw: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def signed_request(raw: bytes) -> Request:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "facebookexternalua",
        "X-Hub-Signature-256": signature(raw),
    }
    return Request(WEBHOOK_PATH, raw, headers)
