"""Requests Django or DRF refuse before any view logic: too many fields or files, oversized
bodies, unusable page sizes and forged cursors. A 4xx in the error shape on the API, Django's
plain 400 page on pages and in admin; never a 500, never a write."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from conversations.models import Tag
from conversations.tests.factories import ConversationFactory
from flame.tests.hostile import assert_error_shape, row_counts

pytestmark = pytest.mark.django_db

FIELDS_LIMIT = 1000  # Django's DATA_UPLOAD_MAX_NUMBER_FIELDS, which settings keep


def _fields(count: int) -> str:
    return "&".join(f"field{index}=1" for index in range(count))


def _assert_plain_400(response) -> None:
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"Bad Request (400)" in response.content


# --- too many fields and files -------------------------------------------------------------------


def test_api_form_with_too_many_fields_is_a_400(admin_client, settings):
    assert settings.DATA_UPLOAD_MAX_NUMBER_FIELDS == FIELDS_LIMIT
    body = f"name=vip&{_fields(FIELDS_LIMIT)}"

    response = admin_client.post(
        "/api/tags", body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400
    error = assert_error_shape(response)
    assert (error["code"], error["message"], error["details"]) == (
        "too_many_fields",
        "The request has too many fields.",
        {"max_fields": FIELDS_LIMIT},
    )
    assert Tag.objects.count() == 0


def test_api_query_with_too_many_parameters_is_a_400(admin_client):
    response = admin_client.get(f"/api/conversations?{_fields(FIELDS_LIMIT + 1)}")

    assert response.status_code == 400
    assert assert_error_shape(response)["code"] == "too_many_fields"


def test_api_multipart_with_too_many_files_is_a_400(admin_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3
    files = [SimpleUploadedFile(f"f{n}.txt", b"x") for n in range(4)]

    response = admin_client.post("/api/tags", {"name": "vip", "files": files}, format="multipart")

    assert response.status_code == 400
    error = assert_error_shape(response)
    assert (error["code"], error["details"]) == ("too_many_files", {"max_files": 3})
    assert Tag.objects.count() == 0


def test_session_api_call_with_too_many_fields_is_a_400(client, admin_user):
    # Session authentication reads the form for its CSRF token before the view runs.
    client.force_login(admin_user)

    response = client.post(
        "/api/tags", _fields(FIELDS_LIMIT + 1), content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400
    assert assert_error_shape(response)["code"] == "too_many_fields"


@pytest.mark.parametrize("path", ["/login/", "/admin/login/", "/settings/agents/"])
def test_page_form_with_too_many_fields_is_a_plain_400_page(client, admin_user, path):
    client.force_login(admin_user)
    users = User.objects.count()

    response = client.post(
        path, _fields(FIELDS_LIMIT + 1), content_type="application/x-www-form-urlencoded"
    )

    _assert_plain_400(response)
    assert User.objects.count() == users


def test_page_query_with_too_many_parameters_is_a_plain_400_page(client, admin_user):
    client.force_login(admin_user)

    _assert_plain_400(client.get(f"/inbox/?{_fields(FIELDS_LIMIT + 1)}"))


# --- oversized and malformed bodies on pages -----------------------------------------------------


def test_page_body_over_the_limit_is_a_plain_400_page(client, settings):
    settings.MAX_REQUEST_BODY_BYTES = 100
    users = User.objects.count()

    response = client.post(
        "/login/", f"email=a%40a.example&password={'x' * 200}", "application/x-www-form-urlencoded"
    )

    _assert_plain_400(response)
    assert User.objects.count() == users


def test_page_with_a_non_numeric_content_length_is_a_plain_400_page(client):
    response = client.post(
        "/login/", "email=a", "application/x-www-form-urlencoded", CONTENT_LENGTH="abc"
    )

    _assert_plain_400(response)


# --- page sizes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["²", "٣x", "9" * 5000, "1e3", "0", "-1", ""])
def test_unusable_limit_is_a_400(admin_client, limit):
    response = admin_client.get("/api/conversations", {"limit": limit})

    assert response.status_code == 400
    error = assert_error_shape(response)
    assert error["details"] == {"limit": ["A positive whole number."]}


def test_limit_in_other_decimal_digits_is_read_like_drf_reads_integers(admin_client, workspace):
    ConversationFactory.create_batch(4, workspace=workspace)

    response = admin_client.get("/api/conversations", {"limit": "٣"})  # Arabic-Indic three

    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


def test_limit_above_the_maximum_is_capped(admin_client, workspace, settings):
    ConversationFactory.create_batch(3, workspace=workspace)

    response = admin_client.get("/api/conversations", {"limit": "100000"})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


# --- cursors -------------------------------------------------------------------------------------


def _cursor(position: str) -> str:
    return base64.b64encode(urlencode({"p": position}).encode()).decode()


@pytest.mark.parametrize(
    "position",
    [
        "9999-12-31 23:59:59.999999-14:00",  # past datetime.max once in UTC
        "0001-01-01 00:00:00+14:00",  # before datetime.min once in UTC
        "2026-11-15 10:00:00",  # naive: in which timezone?
        "yesterday",
        "",
    ],
)
@pytest.mark.parametrize("path", ["/api/conversations", "/api/users", "/api/contacts"])
def test_forged_cursor_position_is_an_invalid_cursor(admin_client, path, position):
    before = row_counts()

    response = admin_client.get(path, {"cursor": _cursor(position)})

    assert response.status_code == 404
    error = assert_error_shape(response)
    assert (error["code"], error["message"]) == ("not_found", "Invalid cursor")
    assert row_counts() == before


def test_cursors_the_api_hands_out_still_work(admin_client, workspace):
    ConversationFactory.create_batch(3, workspace=workspace)

    first = admin_client.get("/api/conversations", {"limit": 2}).json()
    second = admin_client.get(first["next"])

    assert second.status_code == 200
    assert len(second.json()["results"]) == 1
