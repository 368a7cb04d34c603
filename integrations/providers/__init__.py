"""Channel providers are plugins: ``integrations/providers/<platform>/`` with ``parse.py``
(webhook body → normalized items) and ``client.py`` (send, validate credentials).

``PROVIDERS`` maps a platform to its package path; adding a channel means adding a folder and
one line here.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

PROVIDERS: dict[str, str] = {}


def provider_client(platform: str) -> ModuleType | None:
    path = PROVIDERS.get(platform)
    return import_module(f"{path}.client") if path else None
