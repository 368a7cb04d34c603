"""Helpers for tests that need real concurrency (threads with their own DB connections), a
real server process (daphne) in front of the test database, or a Django admin form posted back
as a browser would."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
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
def live_daphne(*daphne_args: str, **env: str) -> Iterator[str]:
    """A real daphne process serving this test run's database; yields its base URL.

    ``daphne_args`` are extra command-line options (e.g. a longer handshake timeout); ``env``
    overrides the server's environment.

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
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), *daphne_args]
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
SETTLE_MS = 2000
VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
# The narrowest and the widest phones the phone layout is built for.
PHONE_WIDTHS = (360, 430)

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
    # Retried for a moment, like Playwright's own expectations: a layout still settling (a page
    # just posted, a busy machine) is not the page's width; one that stays wide fails.
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    fits = "width => document.documentElement.scrollWidth <= width"
    with suppress(PlaywrightTimeout):
        page.wait_for_function(fits, arg=width, timeout=SETTLE_MS)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"page is {scroll_width}px wide at a {width}px viewport"
    outside = page.evaluate(_CONTROLS_OUTSIDE, width)
    assert outside == [], f"controls out of reach at {width}px: {outside}"


def context_options(size: str) -> dict:
    """``new_context`` options for a size of ``VIEWPORTS``: the phone is a touch screen that
    Chromium emulates as a phone (``tap()`` works, ``(pointer: coarse)`` matches)."""
    options = {"locale": "en-US", "viewport": VIEWPORTS[size]}
    if size == "phone":
        options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
    return options


def watch_errors(context) -> list[str]:
    """Collects script errors and CSP refusals of the context's pages (HTTP error statuses are
    not counted: tests provoke 400s and 404s on purpose). The test asserts the list is empty."""
    errors: list[str] = []

    def on_console(message) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def watch(page) -> None:
        page.on("console", on_console)
        page.on("pageerror", lambda error: errors.append(str(error)))

    context.on("page", watch)
    return errors


# A control's target: a check box or radio button is hit through its label. A link inside a
# sentence is exempt (WCAG 2.5.8): making it 44px tall would break the sentence's lines.
_SMALL_TARGETS = """(minimum) => {
  const describe = (el, box) =>
    `${Math.round(box.width)}x${Math.round(box.height)} ${el.outerHTML.slice(0, 100)}`;
  const blockOf = (el) => {
    let node = el.parentElement;
    while (node && getComputedStyle(node).display === "inline") node = node.parentElement;
    return node;
  };
  const inSentence = (el) => el.tagName === "A" && getComputedStyle(el).display === "inline"
    && blockOf(el).textContent.trim().length > el.textContent.trim().length;
  const target = (el) =>
    (el.matches("input[type=checkbox], input[type=radio]") && el.closest("label")) || el;
  const controls = document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary");
  return [...controls].filter((el) => {
    const shown = el.getBoundingClientRect();
    const hidden = getComputedStyle(el).visibility === "hidden";
    if ((!shown.width && !shown.height) || hidden) return false;
    if (inSentence(el)) return false;
    const box = target(el).getBoundingClientRect();
    return box.width < minimum - 0.5 || box.height < minimum - 0.5;
  }).map((el) => describe(el, target(el).getBoundingClientRect()));
}"""

_SMALL_INPUT_TEXT = """(minimum) => [...document.querySelectorAll(
    "input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea"
  )].filter((el) => {
    const box = el.getBoundingClientRect();
    return (box.width || box.height) && parseFloat(getComputedStyle(el).fontSize) < minimum;
  }).map((el) => `${getComputedStyle(el).fontSize} ${el.outerHTML.slice(0, 100)}`)"""

TOUCH_TARGET_PX = 44  # Apple's and WCAG 2.5.5's minimum for a finger
INPUT_TEXT_PX = 16  # below this, iOS zooms the page into the focused input


def assert_touch_friendly(page) -> None:
    """Every visible control is at least 44x44 px and form text at least 16 px."""
    small = page.evaluate(_SMALL_TARGETS, TOUCH_TARGET_PX)
    assert small == [], f"controls smaller than {TOUCH_TARGET_PX}px: {small}"
    tiny_text = page.evaluate(_SMALL_INPUT_TEXT, INPUT_TEXT_PX)
    assert tiny_text == [], f"form text under {INPUT_TEXT_PX}px: {tiny_text}"


def assert_usable_at(page, size: str) -> None:
    """The page fits ``size`` of ``VIEWPORTS``; on the phone it is also touch-friendly."""
    # Measured once the page's stylesheets apply: a layout taken before (a busy machine, a page
    # just posted) is not what anyone sees.
    page.wait_for_load_state("load")
    assert_fits_viewport(page, VIEWPORTS[size]["width"])
    if size == "phone":
        assert_touch_friendly(page)


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


def statement_verbs(captured, skip: tuple[str, ...] = ("SAVEPOINT", "RELEASE")) -> list[str]:
    """The first word of every statement a CaptureQueriesContext saw, minus ``skip``. An
    ``executemany`` is logged as "N times: UPDATE …": one statement sent for N rows."""
    verbs = [re.sub(r"^\d+ times: ", "", query["sql"]).split()[0] for query in captured]
    return [verb for verb in verbs if verb not in skip]


def migrate_to(targets: list[tuple[str, str]]):
    """Migrate the test database to ``targets`` (forwards or back); the apps as they are there."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@contextmanager
def schema_at(targets: list[tuple[str, str]]) -> Iterator[Any]:
    """The apps at ``targets`` for the block; afterwards every app back at its latest migration,
    as the other tests expect (going back also unapplies the later migrations of every app that
    depends on the targets)."""
    from django.db.migrations.loader import MigrationLoader

    try:
        yield migrate_to(targets)
    finally:
        migrate_to(MigrationLoader(connection).graph.leaf_nodes())
