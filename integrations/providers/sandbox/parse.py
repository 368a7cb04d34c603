"""Sandbox webhook body: ``{"from": "<customer id>", "name": "...", "text": "...", "id"?}``."""

from __future__ import annotations

import hashlib

from conversations.types import InboundMessage
from integrations.providers.base import Routed


def parse(payload: dict, *, account_ids: set[str]) -> list[Routed]:
    (account_id,) = account_ids  # one sandbox integration per URL
    sender = str(payload.get("from", "")).strip()
    text = str(payload.get("text", ""))
    if not sender or not text.strip():
        return []
    # Without an explicit id, the body itself identifies the message (a re-post is a repeat).
    message_id = str(
        payload.get("id") or hashlib.sha256(repr(sorted(payload.items())).encode()).hexdigest()[:32]
    )
    inbound = InboundMessage(
        external_contact_id=sender,
        external_id=f"sandbox-{message_id}",
        content=text,
        contact_name=str(payload.get("name", "")).strip(),
        contact_phone=sender if sender.lstrip("+").isdigit() else "",
    )
    return [Routed(account_id=account_id, item=inbound)]
