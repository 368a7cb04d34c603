"""Helpers for tests that need real concurrency (threads with their own DB connections), a
real server process (daphne) in front of the test database, or a Django admin form posted back
as a browser would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def race(target: Callable[[int], Any], count: int) -> list:
    """Run ``target(n)`` in ``count`` threads released at the same instant; return the results.

    Each thread uses (and closes) its own database connection, so the calls really are
    concurrent transactions. Any exception fails the calling test.
    """
    barrier = threading.Barrier(count)
    results: list = []
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            results.append(target(n))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    return results


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(process: subprocess.Popen, url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            urllib.request.urlopen(f"{url}/health", timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    process.kill()
    error = process.stderr.read().decode()[-2000:] if process.stderr else ""
    raise RuntimeError(f"daphne did not start: {error}")


@contextmanager
def live_daphne(**env: str) -> Iterator[str]:
    """A real daphne process serving this test run's database; yields its base URL.

    The data a test writes must be committed (``django_db(transaction=True)``) for the server
    to see it, and the database must be PostgreSQL: pytest-django keeps SQLite in memory.
    """
    database = connection.settings_dict
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        ),
        "REDIS_URL": settings.REDIS_URL,
        "LOG_TO_FILES": "0",
        "LOG_LEVEL": "WARNING",
        "DATABASE_CONN_MAX_AGE": "0",
        **env,
    }
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(
        [*command, "flame.asgi:application"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_healthy(process, url)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def browser_sign_in(page, base_url: str, email: str, password: str) -> None:
    """Sign in through the real login page, as a person would (browser tests, screenshots)."""
    page.goto(f"{base_url}/login/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


# The two sizes every page is tested at: a laptop, and a common phone.
VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}

_CONTROLS_OUTSIDE = """(width) => [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]'
  )].filter((el) => {
    const box = el.getBoundingClientRect();
    const hidden = box.width === 0 && box.height === 0;
    return !hidden && (box.left < -1 || box.right > width + 1);
  }).map((el) => el.outerHTML.slice(0, 120))"""


def assert_fits_viewport(page, width: int) -> None:
    """No sideways scrolling and every visible control within reach at ``width`` pixels.

    Chromium's phone emulation widens ``innerWidth`` to fit wide content, so the document's
    ``scrollWidth`` is compared with the width the test set, never with ``innerWidth``.
    """
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"page is {scroll_width}px wide at a {width}px viewport"
    outside = page.evaluate(_CONTROLS_OUTSIDE, width)
    assert outside == [], f"controls out of reach at {width}px: {outside}"


def _posted_value(bound_field) -> str | list[str] | None:
    value = bound_field.value()
    if value is None or value is False:
        return None  # an empty select, an unchecked box: the browser sends nothing
    if value is True:
        return "on"
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return str(value)


def admin_change_form_data(client, path: str, **changes: Any) -> dict:
    """What a browser posts back from the Django admin change page at ``path`` (its form and
    inlines as shown), with ``changes`` made; a change to None leaves the field out."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        forms.extend([inline.formset.management_form, *inline.formset.forms])
    data = {}
    for form in forms:
        for bound_field in form:
            value = _posted_value(bound_field)
            if value is not None:
                data[bound_field.html_name] = value
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data
