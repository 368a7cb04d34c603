from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

MEXICO_CITY = ZoneInfo("America/Mexico_City")


def local(day: str, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment in the workspaces' timezone (the factories default to America/Mexico_City)."""
    return datetime.fromisoformat(day).replace(
        hour=hour, minute=minute, second=second, tzinfo=MEXICO_CITY
    )


def get_report(client, endpoint: str, **params):
    return client.get(f"/api/analytics/{endpoint}", params)
