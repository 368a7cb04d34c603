from __future__ import annotations

import json
import logging

import pytest

from flame.logging import JsonFormatter, build_logging_config, redact

pytestmark = pytest.mark.django_db


def _records(caplog, logger: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == logger]


def test_access_line_has_request_context(admin_client, admin_user, caplog):
    caplog.set_level(logging.INFO, logger="flame.access")

    response = admin_client.get("/api/auth/me", HTTP_X_REQUEST_ID="req-42")

    assert response["X-Request-ID"] == "req-42"
    line = json.loads(JsonFormatter().format(_records(caplog, "flame.access")[-1]))
    assert line["method"] == "GET"
    assert line["path"] == "/api/auth/me"
    assert line["status"] == 200
    assert line["duration_ms"] >= 0
    assert line["level"] == "INFO"
    assert line["time"].endswith("+00:00")


def test_request_id_is_generated_and_bad_ones_replaced(client):
    generated = client.get("/health")["X-Request-ID"]
    replaced = client.get("/health", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"]

    assert len(generated) == 32
    assert "\n" not in replaced
    assert replaced != "bad id\nwith newline"


def test_user_and_workspace_are_bound_in_log_lines(admin_client, admin_user, caplog):
    seen = {}

    class Capture(logging.Handler):
        def emit(self, record):
            seen.update(json.loads(JsonFormatter().format(record)))

    handler = Capture()
    logging.getLogger("flame.access").addHandler(handler)
    try:
        admin_client.get("/api/auth/me")
    finally:
        logging.getLogger("flame.access").removeHandler(handler)

    assert seen["user_id"] == str(admin_user.pk)
    assert seen["workspace_id"] == str(admin_user.workspace_id)


def test_login_does_not_log_password_or_tokens(anonymous_client, admin_user, caplog):
    caplog.set_level(logging.DEBUG)

    response = anonymous_client.post(
        "/api/auth/login",
        {"email": "admin@a.example", "password": "correct-horse-battery-9"},
        format="json",
    )

    formatted = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert "correct-horse-battery-9" not in formatted
    assert response.json()["access"] not in formatted
    assert response.json()["refresh"] not in formatted


def test_redaction_masks_secret_keys_and_token_text():
    record = logging.LogRecord(
        "x",
        logging.INFO,
        __file__,
        1,
        "auth Bearer abc.def.ghi for bot123456:AAHabcdefghijklmnopqrstuvwxyz",
        (),
        None,
    )
    record.payload = {"access_token": "EAAG-secret", "nested": {"app_secret": "s3"}, "ok": 1}

    line = json.loads(JsonFormatter().format(record))

    assert "abc.def.ghi" not in line["message"]
    assert "AAHabcdefghijklmnopqrstuvwxyz" not in line["message"]
    assert line["payload"] == {
        "access_token": "[redacted]",
        "nested": {"app_secret": "[redacted]"},
        "ok": 1,
    }
    assert redact(["Bearer xyz"]) == ["Bearer [redacted]"]


def test_logging_config_writes_combined_and_error_files(tmp_path):
    config = build_logging_config(level="INFO", log_dir=tmp_path)
    logging.config.dictConfig(
        {
            **config,
            "disable_existing_loggers": False,
            "root": {"handlers": ["combined", "error"], "level": "INFO"},
        }
    )
    try:
        logger = logging.getLogger("flame.test.files")
        logger.info("hello")
        logger.error("boom")
        for handler in logging.getLogger().handlers:
            handler.flush()
        combined = (tmp_path / "combined.log").read_text().splitlines()
        errors = (tmp_path / "error.log").read_text().splitlines()
    finally:
        from django.conf import settings

        logging.config.dictConfig(settings.LOGGING)

    assert [json.loads(line)["message"] for line in combined] == ["hello", "boom"]
    assert [json.loads(line)["message"] for line in errors] == ["boom"]
