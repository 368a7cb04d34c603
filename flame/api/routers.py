from __future__ import annotations

from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """Routes that match with or without a trailing slash (the seed's clients use both)."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"
