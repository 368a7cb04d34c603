"""The deployment files agree with the code: .env.example documents every variable settings.py
reads, docker-compose.yml has the services the README describes, nginx routes WebSockets, and
the Dockerfile's build-time dummies pass the same checks as real values.

Plain file parsing: no database, no Docker engine.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from flame.crypto import parse_keys

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "flame" / "settings.py"
ENV_EXAMPLE = ROOT / ".env.example"
COMPOSE = ROOT / "docker-compose.yml"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
DOCKERFILE = ROOT / "Dockerfile"

ENV_READERS = {"env_str", "env_bool", "env_int", "env_float", "env_list"}
APP_SERVICES = {"web", "ws", "worker", "beat"}
LONG_RUNNING = {"nginx", "web", "ws", "worker", "beat", "db", "redis"}


def _env_reads() -> dict[str, ast.Call]:
    """Every ``env_*("NAME", ...)`` call in settings.py, by variable name."""
    calls: dict[str, ast.Call] = {}
    for node in ast.walk(ast.parse(SETTINGS.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ENV_READERS
        ):
            first = node.args[0] if node.args else None
            where = f"settings.py line {node.lineno}: {node.func.id} needs a literal name"
            assert isinstance(first, ast.Constant), where
            assert isinstance(first.value, str), where
            calls.setdefault(first.value, node)
    return calls


def _documented() -> set[str]:
    """Names assigned in .env.example, commented out (``# NAME=``) or not."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.MULTILINE))


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _command(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def _nginx_block(text: str, opening: str) -> str:
    """The body of the ``{ ... }`` block whose header matches ``opening``."""
    match = re.search(opening + r"\s*\{", text)
    assert match, f"no block {opening!r} in {NGINX_CONF.name}"
    depth, start = 1, match.end()
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start:index]
    raise AssertionError(f"unbalanced braces after {opening!r}")


def _nginx_text() -> str:
    # Comments out of the way, so a commented-out directive never counts.
    return re.sub(r"#[^\n]*", "", NGINX_CONF.read_text())


# --- .env.example ----------------------------------------------------------------------------


def test_settings_reads_environment_variables():
    names = _env_reads()

    assert {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "ENCRYPTION_KEYS"} <= names.keys()
    assert {"DATABASE_URL", "REDIS_URL"} <= names.keys()


def test_env_example_documents_every_variable_settings_reads():
    missing = sorted(_env_reads().keys() - _documented())

    assert not missing, f".env.example does not document: {', '.join(missing)}"


def test_env_example_documents_container_variables():
    assert {"GUNICORN_WORKERS", "GUNICORN_THREADS"} <= _documented()


def test_env_example_changes_nothing_when_copied():
    active = [
        line
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]

    assert active == [], "every value in .env.example must be commented out"


def test_env_example_shows_how_to_generate_an_encryption_key():
    text = ENV_EXAMPLE.read_text()

    assert "base64.urlsafe_b64encode(os.urandom(32))" in text
    assert "id:base64key" in text


# --- docker-compose.yml ----------------------------------------------------------------------


def test_compose_has_every_service():
    services = _compose()["services"]

    assert {"nginx", "web", "ws", "worker", "beat", "db", "redis", "migrate"} <= services.keys()


def test_compose_data_stores_use_pinned_major_versions():
    services = _compose()["services"]

    assert re.fullmatch(r"postgres:15([.-].*)?", services["db"]["image"])
    assert re.fullmatch(r"redis:7([.-].*)?", services["redis"]["image"])


def test_compose_web_runs_gunicorn_and_ws_runs_daphne():
    services = _compose()["services"]

    assert "gunicorn flame.wsgi:application" in _command(services["web"])
    assert "--worker-class gthread" in _command(services["web"])
    assert "daphne" in _command(services["ws"])
    assert "flame.asgi:application" in _command(services["ws"])
    assert _command(services["worker"]).startswith("celery")
    assert " worker" in _command(services["worker"])
    assert _command(services["beat"]).startswith("celery")
    assert " beat" in _command(services["beat"])


def test_compose_workers_consume_every_celery_queue():
    services = _compose()["services"]
    queues: set[str] = set()
    for name, service in services.items():
        if " worker" in _command(service):
            match = re.search(r"(?:-Q|--queues)[ =]([\w,]+)", _command(service))
            assert match, f"{name} must name its queues"
            queues |= set(match.group(1).split(","))

    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert queues == routed | {settings.CELERY_TASK_DEFAULT_QUEUE}


def test_compose_app_services_wait_for_migrations_and_use_the_stores():
    services = _compose()["services"]
    assert "migrate" in _command(services["migrate"])

    for name in APP_SERVICES:
        service = services[name]
        condition = service["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name
        env = service["environment"]
        assert env["DATABASE_URL"] == "postgres://flame:flame@db:5432/flame", name
        assert env["REDIS_URL"] == "redis://redis:6379/0", name
        assert service["env_file"], name


@pytest.mark.parametrize("name", sorted(LONG_RUNNING))
def test_compose_long_running_service_has_a_health_check(name):
    healthcheck = _compose()["services"][name].get("healthcheck") or {}

    assert healthcheck.get("test"), name
    assert not healthcheck.get("disable"), name


def test_compose_redis_keeps_broker_messages():
    command = _command(_compose()["services"]["redis"])

    assert "--appendonly yes" in command
    assert "--maxmemory-policy noeviction" in command


def test_compose_nginx_is_the_only_published_entry_point():
    services = _compose()["services"]
    published = {name for name, service in services.items() if service.get("ports")}

    assert published == {"nginx"}
    assert any("deploy/nginx.conf" in volume for volume in services["nginx"]["volumes"])


# --- deploy/nginx.conf -----------------------------------------------------------------------


def test_nginx_routes_websockets_with_upgrade_headers():
    block = _nginx_block(_nginx_text(), r"location\s+/ws/")

    assert re.search(r"proxy_pass\s+http://\S+;", block)
    assert re.search(r"proxy_http_version\s+1\.1;", block)
    assert re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade;", block)
    assert re.search(r"proxy_set_header\s+Connection\s+\S+;", block)


def test_nginx_passes_client_address_scheme_and_host():
    text = _nginx_text()

    for location in (r"location\s+/ws/", r"location\s+/(?=\s*\{)"):
        block = _nginx_block(text, location)
        for header in ("Host", "X-Real-IP", "X-Forwarded-For", "X-Forwarded-Proto"):
            assert re.search(rf"proxy_set_header\s+{header}\s+\S+;", block), (location, header)


def test_nginx_body_limit_matches_max_request_body_bytes_default():
    default = _env_reads()["MAX_REQUEST_BODY_BYTES"].args[1]
    expected = eval(compile(ast.Expression(default), str(SETTINGS), "eval"), {"__builtins__": {}})
    size = re.search(r"client_max_body_size\s+(\d+)([kKmM]?);", _nginx_text())
    assert size

    factor = {"": 1, "k": 1024, "m": 1024 * 1024}[size.group(2).lower()]
    assert int(size.group(1)) * factor == expected


# --- Dockerfile ------------------------------------------------------------------------------


def test_dockerfile_runs_gunicorn_as_non_root_with_health_check():
    text = DOCKERFILE.read_text()

    assert re.search(r"^FROM python:3\.11-slim|^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.M)
    user = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert user
    assert not user[-1].startswith(("root", "0"))
    assert re.search(r"^HEALTHCHECK .*\n?.*/health", text, re.MULTILINE)
    cmd = re.search(r"^CMD .*", text, re.MULTILINE)
    assert cmd
    assert "gunicorn flame.wsgi:application" in cmd.group(0)
    assert "GUNICORN_WORKERS:-2" in cmd.group(0)
    assert "GUNICORN_THREADS:-4" in cmd.group(0)


def test_dockerfile_build_time_encryption_key_is_well_formed():
    match = re.search(r"ENCRYPTION_KEYS=(\S+)", DOCKERFILE.read_text())
    assert match

    assert len(parse_keys(match.group(1)).keys) == 1


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("integrations.tasks.ingest_webhook_event_task", "ingest"),
        ("integrations.tasks.sweep_webhook_events_task", "ingest"),
        ("integrations.tasks.download_attachment_task", "media"),
        ("integrations.tasks.sweep_attachment_downloads_task", "media"),
        ("assistants.tasks.auto_reply_task", "ai"),
        ("assistants.tasks.auto_reply_due_task", "ai"),
        ("assistants.tasks.auto_reply_answer_task", "ai"),
        ("assistants.tasks.analysis_due_task", "ai"),
        ("assistants.tasks.analyze_claimed_task", "ai"),
        # Holiday feeds fetch outside addresses: never on the queues messages wait on.
        ("accounts.tasks.refresh_holiday_feed_task", "default"),
        ("accounts.tasks.refresh_holiday_feeds_task", "default"),
    ],
)
def test_tasks_land_on_their_queue(task, queue):
    # Routes are globs and the first match wins: a broad pattern must not swallow a narrow one.
    from flame.celery import app

    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_pytest_collects_every_app_of_ours():
    # An app missing from testpaths has its tests silently never run, in CI too.
    import configparser

    ini = configparser.ConfigParser()
    ini.read(ROOT / "pytest.ini")
    collected = set(ini["pytest"]["testpaths"].split())
    ours = {app for app in settings.INSTALLED_APPS if (ROOT / app / "apps.py").exists()}

    assert ours - collected == set()


def test_compose_workers_have_webs_cpu_weight():
    """A lower weight for the workers made agents wait longer for messages on the webhook bench
    and did not shorten the webhook answers' tail (docs/benchmarks.md)."""
    services = _compose()["services"]
    web = services["web"].get("cpu_shares", 1024)

    for name in ("worker", "worker-ai"):
        assert services[name].get("cpu_shares", 1024) == web, name


def test_compose_ingesting_worker_is_recycled_by_memory_not_task_count():
    """Each replacement of a pool process holds up the task handed to it for seconds; at
    ingestion's rate a task count replaced a process every few minutes (docs/architecture.md)."""
    command = _command(_compose()["services"]["worker"])

    assert "--max-tasks-per-child" not in command
    match = re.search(r"--max-memory-per-child=\$\{WORKER_MAX_MEMORY_KIB:-(\d+)\}", command)
    assert match, command
    assert int(match.group(1)) >= 256 * 1024  # KiB: a leak guard, not a routine recycle
