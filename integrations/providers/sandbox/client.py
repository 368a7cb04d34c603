"""Sandbox sends go nowhere: the simulator shows replies straight from the thread."""

from __future__ import annotations

from integrations.providers.base import ConnectResult, RateLimit, SendResult


def address_for_phone(phone: str) -> str:
    """The simulator's customers are known by the id they write from, usually their number."""
    return phone.strip()


def send(*, integration, message) -> SendResult:
    return SendResult(external_id=f"sandbox-out-{message.pk}")


def connect(*, integration) -> ConnectResult:
    return ConnectResult(
        external_account_id=integration.external_account_id, display_name="Sandbox"
    )


def disconnect(*, integration) -> None:
    return None


def rate_limits(*, integration, message) -> list[RateLimit]:
    return []
