"""One error shape for every API failure (docs/architecture.md, "Where a write goes")."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _assert_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert error["message"]
    return error


def test_unknown_api_path_is_json_404(admin_client):
    _assert_shape(admin_client.get("/api/does-not-exist"), 404, "not_found")


def test_wrong_method_is_405(admin_client):
    _assert_shape(admin_client.delete("/api/auth/me"), 405, "method_not_allowed")


def test_unauthenticated_is_401(anonymous_client):
    _assert_shape(anonymous_client.get("/api/users"), 401, "not_authenticated")


def test_forbidden_is_403(agent_client):
    _assert_shape(agent_client.get("/api/users"), 403, "permission_denied")


def test_validation_error_has_field_details(anonymous_client):
    error = _assert_shape(
        anonymous_client.post("/api/auth/login", {"email": "not-an-email"}, format="json"),
        400,
        "validation_error",
    )
    assert set(error["details"]) == {"email", "password"}


def test_unsupported_media_type_is_415(admin_client):
    response = admin_client.post("/api/users", data="<xml/>", content_type="application/xml")
    _assert_shape(response, 415, "unsupported_media_type")


def test_oversized_body_is_413_before_parsing(admin_client, settings, admin_user):
    settings.MAX_REQUEST_BODY_BYTES = 1000
    body = {"email": "big@a.example", "name": "x" * 2000, "role": "agent"}

    error = _assert_shape(
        admin_client.post("/api/users", body, format="json"), 413, "request_too_large"
    )

    assert error["details"] == {"max_bytes": 1000}
    from accounts.models import User

    assert not User.objects.filter(email="big@a.example").exists()


def test_oversized_body_without_length_is_413(admin_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    settings.MAX_REQUEST_BODY_BYTES = 10**9  # the up-front check does not see this body

    response = admin_client.post(
        "/api/users", {"email": "a@a.example", "name": "y" * 500}, format="json"
    )

    _assert_shape(response, 413, "request_too_large")


def test_non_numeric_content_length_is_400(client):
    response = client.post(
        "/api/auth/login", data="{}", content_type="application/json", CONTENT_LENGTH="abc"
    )
    _assert_shape(response, 400, "bad_request")


def test_pages_outside_the_api_keep_html_404(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_cors_allows_configured_origin_only(client):
    allowed = client.options(
        "/api/auth/login",
        HTTP_ORIGIN="http://localhost:5173",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    denied = client.options(
        "/api/auth/login",
        HTTP_ORIGIN="https://evil.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )

    assert allowed["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "Access-Control-Allow-Origin" not in denied
