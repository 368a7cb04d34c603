from __future__ import annotations

from django.apps import AppConfig


class FlameConfig(AppConfig):
    """The project's wiring as an app, for commands that span every app (``seed_demo``)."""

    name = "flame"
    verbose_name = "FLAME"
