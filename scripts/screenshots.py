"""Take the README screenshots against a real server holding the demo data: a laptop's
(1440x900) and a phone's (390x844), the sizes every page is tested at."""

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


def _environment(database: Path) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "LOG_TO_FILES": "0"}
    env.update({"LOG_LEVEL": "WARNING", "RATELIMIT_ENABLE": "0"})
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)  # the embedded default: in-memory layer, inline tasks
    return env


def _manage(env: dict[str, str], *command: str) -> None:
    subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)


def _signed_in_page(browser, base: str, size: str):
    from accounts.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD
    from flame.testing import browser_sign_in, context_options

    page = browser.new_context(**{**context_options(size), "locale": "es-MX"}).new_page()
    browser_sign_in(page, base, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)
    return page


def _open_first_conversation(page, base: str) -> None:
    page.goto(f"{base}/inbox/")
    page.locator("[data-testid=conversation-item]").first.click()
    page.wait_for_selector("[data-testid=message]")
    page.wait_for_timeout(500)


def _open_dashboard(page, base: str) -> None:
    page.goto(f"{base}/dashboard/")
    page.wait_for_selector("[data-testid=dashboard][data-state=ready]")
    page.wait_for_timeout(1200)  # chart animations


def _shoot_desktop(browser, base: str) -> None:
    page = _signed_in_page(browser, base, "desktop")
    _open_first_conversation(page, base)
    page.screenshot(path=OUT / "inbox.png")
    _open_dashboard(page, base)
    page.screenshot(path=OUT / "dashboard.png", full_page=True)
    page.context.close()


def _shoot_phone(browser, base: str) -> None:
    page = _signed_in_page(browser, base, "phone")
    page.goto(f"{base}/inbox/")
    page.wait_for_selector("[data-testid=conversation-item]")
    page.screenshot(path=OUT / "phone-inbox.png")
    _open_first_conversation(page, base)
    page.screenshot(path=OUT / "phone-thread.png")
    page.get_by_test_id("details-toggle").click()
    page.wait_for_selector("[data-testid=details-pane]:visible")
    page.screenshot(path=OUT / "phone-details.png")
    _open_dashboard(page, base)
    page.screenshot(path=OUT / "phone-dashboard.png")
    page.get_by_test_id("nav-toggle").click()
    page.screenshot(path=OUT / "phone-menu.png")
    page.context.close()


def _shoot(base: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        _shoot_desktop(browser, base)
        _shoot_phone(browser, base)
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
