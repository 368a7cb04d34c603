"""Take the README screenshots against a real server holding the demo data."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1440, "height": 900}


def _environment(database: Path) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "LOG_TO_FILES": "0"}
    env.update({"LOG_LEVEL": "WARNING", "RATELIMIT_ENABLE": "0"})
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)  # the embedded default: in-memory layer, inline tasks
    return env


def _manage(env: dict[str, str], *command: str) -> None:
    subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)


def _shoot(base: str) -> None:
    from playwright.sync_api import sync_playwright

    from accounts.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD
    from flame.testing import browser_sign_in

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(viewport=VIEWPORT, locale="es-MX").new_page()
        browser_sign_in(page, base, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)
        page.goto(f"{base}/inbox/")
        page.locator("[data-testid=conversation-item]").first.click()
        page.wait_for_selector("[data-testid=message]")
        page.wait_for_timeout(500)
        page.screenshot(path=OUT / "inbox.png")
        page.goto(f"{base}/dashboard/")
        page.wait_for_selector("canvas")
        page.wait_for_timeout(1200)  # chart animations
        page.screenshot(path=OUT / "dashboard.png", full_page=True)
        browser.close()


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flame.settings")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        env = _environment(Path(scratch) / "demo.sqlite3")
        _manage(env, "migrate", "-v0")
        _manage(env, "seed_demo")
        port = "8765"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                port,
                "flame.asgi:application",
            ],
            cwd=ROOT,
            env=env,
        )
        try:
            import django

            os.environ.update(env)
            django.setup()
            from flame.testing import wait_healthy

            wait_healthy(server, f"http://127.0.0.1:{port}")
            _shoot(f"http://127.0.0.1:{port}")
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
