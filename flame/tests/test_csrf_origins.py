"""A trial of the compose stack on http://localhost:8080 can sign in: the CSRF check trusts the
origin of PUBLIC_BASE_URL. Production settings are built in a fresh interpreter each time."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from flame.tests.test_settings import PRODUCTION

ROOT = Path(__file__).resolve().parents[2]
TRIAL_SETTINGS = ("ALLOWED_HOSTS", "PUBLIC_BASE_URL", "SECURE_SSL_REDIRECT")


def _documented_trial() -> dict[str, str]:
    """The values the README tells a compose trial on this machine to put in .env."""
    readme = (ROOT / "README.md").read_text()
    pattern = rf"^({'|'.join(TRIAL_SETTINGS)})=(\S+)$"
    return dict(re.findall(pattern, readme, re.MULTILINE))


# The production secrets (any valid ones) plus what the README documents.
COMPOSE_TRIAL = {**PRODUCTION, **_documented_trial()}

# A POST of the sign-in form as the browser sends it through the compose nginx: Host without
# the port ($host), the scheme in X-Forwarded-Proto, the page's origin in Origin.
SIGN_IN = """
import json, django
django.setup()
from django.test import Client
from accounts.models import User

User.objects.create_user(email="ana@example.com", password="quiet-Lake-2024", name="Ana")
TOKEN = "k" * 32  # the CSRF cookie's secret, echoed by the form as the page would

def sign_in(origin):
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = TOKEN
    response = client.post(
        "/login/",
        {"email": "ana@example.com", "password": "quiet-Lake-2024", "csrfmiddlewaretoken": TOKEN},
        HTTP_HOST="localhost",
        HTTP_X_FORWARDED_PROTO="http",
        HTTP_ORIGIN=origin,
    )
    return [response.status_code, response.get("Location")]

print(json.dumps([sign_in("http://localhost:8080"), sign_in("http://evil.example")]))
"""


def _python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "CSRF_TRUSTED_ORIGINS", "PUBLIC_BASE_URL"}
    }
    clean.update(
        DJANGO_SETTINGS_MODULE="flame.settings",
        SQLITE_PATH=str(tmp_path / "trial.sqlite3"),
        LOG_TO_FILES="0",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _trusted_origins(tmp_path: Path, **env: str) -> list[str]:
    code = (
        "import django;django.setup();from django.conf import settings;"
        "import json;print(json.dumps(settings.CSRF_TRUSTED_ORIGINS))"
    )
    result = _python(code, tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compose_trial_signs_in_from_its_public_origin_and_refuses_others(tmp_path):
    migrate = "from django.core.management import execute_from_command_line as run;"
    migrated = _python(
        migrate + "run(['manage.py', 'migrate', '--noinput', '-v', '0'])",
        tmp_path,
        **COMPOSE_TRIAL,
    )
    assert migrated.returncode == 0, migrated.stderr

    result = _python(SIGN_IN, tmp_path, **COMPOSE_TRIAL)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == [[302, "/inbox/"], [403, None]]


def test_trusted_origins_are_the_public_origin_plus_the_listed_ones(tmp_path):
    origins = _trusted_origins(
        tmp_path,
        PUBLIC_BASE_URL="https://flame.example.com/",
        CSRF_TRUSTED_ORIGINS="https://admin.example.com,https://flame.example.com",
    )

    assert origins == ["https://flame.example.com", "https://admin.example.com"]


def test_development_trusts_the_default_public_origin(tmp_path):
    assert _trusted_origins(tmp_path) == ["http://127.0.0.1:8000"]


def test_a_public_base_url_without_scheme_stops_start_up(tmp_path):
    result = _python("import django;django.setup()", tmp_path, PUBLIC_BASE_URL="flame.example.com")

    assert result.returncode != 0
    assert "PUBLIC_BASE_URL must be an http(s) URL, got 'flame.example.com'" in result.stderr


def test_readme_documents_every_setting_a_compose_trial_needs():
    assert _documented_trial() == {
        "ALLOWED_HOSTS": "localhost",
        "PUBLIC_BASE_URL": "http://localhost:8080",
        "SECURE_SSL_REDIRECT": "0",
    }


def test_compose_defaults_public_base_url_to_the_published_nginx_port():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    app_environment = compose["x-app"]["environment"]
    published = compose["services"]["nginx"]["ports"]

    assert app_environment["PUBLIC_BASE_URL"] == "${PUBLIC_BASE_URL:-http://localhost:8080}"
    assert published == ["${NGINX_PORT:-8080}:8080"]
