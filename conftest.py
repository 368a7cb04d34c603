"""Shared fixtures: personas (admin and agent of workspace A, an outsider from workspace B),
API clients authenticated with real JWTs, and the service gates for PostgreSQL and Redis.

In CI (``CI`` set) a test marked ``postgres`` or ``redis`` fails when the service is missing;
locally, on the embedded default, it is skipped with a reason.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import translation
from rest_framework.test import APIClient

from accounts.services import tokens_for
from accounts.tests.factories import UserFactory, WorkspaceFactory
from flame.celery import app as celery_app
from integrations.signatures import signer_cache

IN_CI = bool(os.environ.get("CI"))


def pytest_sessionstart(session) -> None:
    if IN_CI and not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        raise pytest.UsageError(
            "CI must run against PostgreSQL and Redis (DATABASE_URL, REDIS_URL)"
        )


def _require(available: bool, what: str) -> None:
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but is not configured")
    pytest.skip(f"{what} not configured (embedded default)")


@pytest.fixture(autouse=True)
def _service_gates(request) -> None:
    if request.node.get_closest_marker("postgres"):
        _require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    if request.node.get_closest_marker("redis"):
        _require(bool(settings.REDIS_URL), "Redis (REDIS_URL)")


# Nothing listens on port 9 (discard): a request there is refused at once.
UNREACHABLE = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def _test_defaults(settings, request, tmp_path_factory) -> None:
    # Hashing with PBKDF2 at full strength costs ~0.3 s per password; tests need many. Browser
    # tests keep the real hasher: the server process they sign in to verifies with it.
    if not request.node.get_closest_marker("browser"):
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    # LocaleMiddleware activates a request's language on the thread and leaves it there: every
    # test starts from the default, whatever the previous one asked for.
    translation.activate(settings.LANGUAGE_CODE)
    # Each test builds its own integrations; a signer list cached by the last one is stale.
    signer_cache.clear()
    # Never the real platforms: a test that wants one starts a local stand-in (fake_api). Files
    # a test stores go to its own directory, and a download is tried once unless it says more.
    settings.GRAPH_API_BASE_URL = settings.TELEGRAM_API_BASE_URL = UNREACHABLE
    settings.META_MEDIA_HOSTS = []
    settings.MEDIA_DOWNLOAD_MAX_ATTEMPTS = 1
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))


@pytest.fixture(autouse=True, scope="session")
def _celery_inline():
    """Tasks run inline unless a test starts a real worker (those tests say so)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def workspace(db):
    return WorkspaceFactory(name="Workspace A")


@pytest.fixture
def admin_user(workspace):
    return UserFactory(workspace=workspace, role="admin", email="admin@a.example", name="Ana Admin")


@pytest.fixture
def agent_user(workspace):
    return UserFactory(
        workspace=workspace, role="agent", email="agent@a.example", name="Aldo Agent"
    )


@pytest.fixture
def other_agent(workspace):
    return UserFactory(
        workspace=workspace, role="agent", email="other@a.example", name="Olga Agent"
    )


@pytest.fixture
def outsider(db):
    """Admin of another workspace: every object of workspace A must be invisible to them."""
    other = WorkspaceFactory(name="Workspace B")
    return UserFactory(workspace=other, role="admin", email="outsider@b.example", name="Otto Out")


def api_client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for(user)['access']}")
    return client


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()


@pytest.fixture
def admin_client(admin_user) -> APIClient:
    return api_client_for(admin_user)


@pytest.fixture
def agent_client(agent_user) -> APIClient:
    return api_client_for(agent_user)


@pytest.fixture
def outsider_client(outsider) -> APIClient:
    return api_client_for(outsider)


# --- browser tests: Debian's chromium driven by Playwright, against a real daphne ---------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium per test module; a fresh context (cookies, storage) per test.

    Module scope, not session: Playwright's sync API keeps an event loop running on this
    thread while it is open, and the asyncio tests of other modules cannot start beside it.
    """
    _require(os.path.exists(CHROMIUM), f"Chromium ({CHROMIUM}, apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; Django would then refuse the
    # test's own (synchronous) ORM calls as if they came from async code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def live_app(transactional_db):
    """The product served by a real daphne process (HTTP + WebSocket) on the test database.

    Tasks run inline in that process, so a sandbox reply is delivered without a worker.
    """
    _require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    from flame.testing import live_daphne

    with live_daphne(CELERY_TASK_ALWAYS_EAGER="1", RATELIMIT_ENABLE="0") as url:
        yield url


@pytest.fixture
def browser_context(chromium, request):
    """A browser context; script errors and CSP refusals on its pages fail the test.

    HTTP error statuses are not counted: tests provoke 400s and 404s on purpose.
    """
    from flame.testing import watch_errors

    context = chromium.new_context(locale="en-US", viewport={"width": 1366, "height": 860})
    errors = watch_errors(context)
    yield context
    context.close()
    assert errors == [], f"browser console errors: {errors}"
