"""Secrets generated once for the embedded development default.

Production refuses to start without real secrets (flame/settings.py). In development a random
SECRET_KEY and encryption key are created on first start and kept in ``var/dev-secrets.json``
(git-ignored), so sessions, tokens and encrypted credentials survive a restart while nothing
secret is ever written into the repository.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path


def _generate(name: str) -> str:
    if name == "ENCRYPTION_KEYS":
        from flame.crypto import generate_key  # settings are still loading: import when used

        return f"dev1:{generate_key()}"
    return secrets.token_urlsafe(50)


def dev_secret(base_dir: Path, name: str) -> str:
    path = base_dir / "var" / "dev-secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    if name not in stored:
        stored[name] = _generate(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(stored, indent=2))
        os.chmod(temporary, 0o600)
        temporary.replace(path)
    return stored[name]
