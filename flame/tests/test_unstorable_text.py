"""NUL characters and lone surrogates: refused at the boundary (API bodies, query strings, page
forms) with a 400, never a 500 from the database; cleaned where a platform sends them."""

from __future__ import annotations

import json

import pytest

from conversations.models import Contact, Tag
from conversations.tests.factories import ContactFactory
from flame.tests.hostile import assert_error_shape, json_body, row_counts
from flame.text import storable, unstorable_reason

NULL_REFUSED = "Null characters are not allowed."
SURROGATE_REFUSED = "Surrogate characters are not allowed: U+D800."


# --- flame.text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("plain ñandú 😀", None),
        ("a\x00b", NULL_REFUSED),
        ("a\ud800b", SURROGATE_REFUSED),
        ("a\udfffb", "Surrogate characters are not allowed: U+DFFF."),
    ],
)
def test_unstorable_reason(text, reason):
    assert unstorable_reason(text) == reason


def test_storable_cleans_every_string_and_keeps_everything_else():
    payload = {
        "te\x00xt": ["a\x00b", {"name": "Jos\ud800é"}, 3, None, True],
        "fine": "ñandú 😀",
    }

    assert storable(payload) == {
        "text": ["ab", {"name": "Jos\ufffdé"}, 3, None, True],
        "fine": "ñandú 😀",
    }


def test_storable_returns_a_clean_value_itself():
    payload = {"entry": [{"text": "hola"}]}

    assert storable(payload) is payload


# --- API bodies ----------------------------------------------------------------------------------


@pytest.fixture
def contact(workspace):
    return ContactFactory(workspace=workspace, name="Ana", metadata={"plan": "gold"})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("metadata", "reason"),
    [
        ({"note": "a\x00b"}, NULL_REFUSED),
        ({"note": "a\ud800b"}, SURROGATE_REFUSED),
        ({"no\x00te": "b"}, NULL_REFUSED),
        ({"notes": [{"deep": ["a\ud800"]}]}, SURROGATE_REFUSED),
    ],
)
def test_unstorable_text_in_json_metadata_is_a_400_naming_the_field(
    admin_client, contact, metadata, reason
):
    response = admin_client.patch(
        f"/api/contacts/{contact.pk}",
        json_body({"name": "Changed", "metadata": metadata}),
        content_type="application/json",
    )

    assert response.status_code == 400
    error = assert_error_shape(response)
    assert error["code"] == "validation_error"
    assert error["details"] == {"metadata": [reason]}
    contact.refresh_from_db()
    assert (contact.name, contact.metadata) == ("Ana", {"plan": "gold"})


@pytest.mark.django_db
def test_an_unprintable_field_name_is_reported_on_the_body(admin_client):
    response = admin_client.post(
        "/api/tags",
        json_body({"name": "vip", "co\x00lor": "#ffffff"}),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert assert_error_shape(response)["details"] == {"non_field_errors": [NULL_REFUSED]}
    assert Tag.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("format_", ["multipart", "form"])
def test_form_bodies_of_the_api_are_checked_too(admin_client, format_):
    if format_ == "form":
        response = admin_client.post(
            "/api/tags", "name=v%00ip", content_type="application/x-www-form-urlencoded"
        )
    else:
        response = admin_client.post("/api/tags", {"name": "v\x00ip"}, format="multipart")

    assert response.status_code == 400
    assert assert_error_shape(response)["details"] == {"name": [NULL_REFUSED]}
    assert Tag.objects.count() == 0


@pytest.mark.django_db
def test_json_nested_past_the_decoders_depth_is_a_parse_error(admin_client):
    before = row_counts()

    response = admin_client.post("/api/tags", "[" * 100_000, content_type="application/json")

    assert response.status_code == 400
    error = assert_error_shape(response)
    assert (error["code"], error["message"]) == (
        "parse_error",
        "JSON parse error - nested too deeply.",
    )
    assert row_counts() == before


@pytest.mark.django_db
def test_valid_unicode_still_goes_through(admin_client, contact):
    metadata = {"nota": "Pérez 😀 — 中文", "emoji_pair": "\ud83d\ude00"}

    response = admin_client.patch(
        f"/api/contacts/{contact.pk}",
        json_body({"metadata": metadata}),
        content_type="application/json",
    )

    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.metadata == {"nota": "Pérez 😀 — 中文", "emoji_pair": "😀"}


# --- query strings and page forms ----------------------------------------------------------------


@pytest.mark.django_db
def test_nul_in_an_api_query_string_is_a_400_naming_the_parameter(admin_client):
    response = admin_client.get("/api/contacts?search=an%00a")

    assert response.status_code == 400
    error = assert_error_shape(response)
    assert (error["code"], error["details"]) == ("validation_error", {"search": [NULL_REFUSED]})


@pytest.mark.django_db
def test_a_lone_surrogate_cannot_travel_in_a_query_string(admin_client, contact):
    # Its bytes arrive percent-encoded and decode as U+FFFD, which is just text to search for.
    response = admin_client.get("/api/contacts?search=%ED%A0%80")

    assert response.status_code == 200


@pytest.mark.django_db
def test_nul_in_a_page_query_string_is_a_plain_400_page(client, admin_user):
    client.force_login(admin_user)

    response = client.get("/inbox/?search=an%00a")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"Bad Request (400)" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_nul_in_a_sign_in_form_is_a_plain_400_page(client, admin_user, encoding):
    if encoding == "urlencoded":
        response = client.post(
            "/login/",
            "email=admin%40a.example%00&password=x",
            content_type="application/x-www-form-urlencoded",
        )
    else:
        response = client.post("/login/", {"email": "admin@a.example\x00", "password": "x"})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"Bad Request (400)" in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_contact_rows_are_untouched_by_a_refused_metadata_key(admin_client, contact):
    before = (row_counts(), list(Contact.objects.values()))

    response = admin_client.put(
        f"/api/contacts/{contact.pk}",
        json.dumps({"name": "Ana", "metadata": {"\ud800": 1}}),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert (row_counts(), list(Contact.objects.values())) == before
