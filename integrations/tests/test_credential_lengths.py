"""Credentials copied into columns of their own (the account id that routes webhooks, the verify
token) must fit those columns: a 400 naming the credential, on the API and the settings pages,
and nothing created or changed. PostgreSQL refused them as a server error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from flame.tests.hostile import assert_error_shape
from integrations.models import Integration
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

TOO_LONG_ID = "1" * 65
TOO_LONG_MESSAGE = "Ensure this value has at most 64 characters (it has 65)."

CREDENTIALS = {
    "whatsapp": {"access_token": "EAAG-token", "phone_number_id": "1139", "app_secret": "s"},
    "facebook": {"page_id": "1045", "page_access_token": "EAAG-page", "app_secret": "s"},
    "instagram": {"instagram_account_id": "1784", "access_token": "IGQ-token", "app_secret": "s"},
    "telegram": {"bot_token": "123456:ABC-def"},
}


def _create(client, platform: str, **credentials):
    body = {
        "platform": platform,
        "name": "Canal",
        "credentials": {**CREDENTIALS[platform], **credentials},
    }
    return client.post("/api/integrations", body, format="json")


@pytest.mark.parametrize(
    ("platform", "credential", "value", "message"),
    [
        ("whatsapp", "phone_number_id", TOO_LONG_ID, TOO_LONG_MESSAGE),
        ("facebook", "page_id", TOO_LONG_ID, TOO_LONG_MESSAGE),
        ("instagram", "instagram_account_id", TOO_LONG_ID, TOO_LONG_MESSAGE),
        # The bot id is the token's part before ":".
        ("telegram", "bot_token", f"{TOO_LONG_ID}:ABC", TOO_LONG_MESSAGE),
        (
            "whatsapp",
            "verify_token",
            "v" * 129,
            "Ensure this value has at most 128 characters (it has 129).",
        ),
    ],
)
def test_a_credential_longer_than_its_column_is_a_400_naming_it(
    admin_client, platform, credential, value, message
):
    response = _create(admin_client, platform, **{credential: value})

    assert response.status_code == 400
    error = assert_error_shape(response)
    assert (error["code"], error["details"]) == ("validation_error", {credential: [message]})
    assert Integration.objects.count() == 0


@pytest.mark.parametrize(
    ("platform", "credential"),
    [("whatsapp", "phone_number_id"), ("facebook", "page_id"), ("telegram", "bot_token")],
)
def test_an_account_id_that_fills_its_column_is_accepted(admin_client, platform, credential):
    value = "1" * 64 + (":ABC" if platform == "telegram" else "")

    response = _create(admin_client, platform, **{credential: value})

    assert response.status_code == 201
    assert Integration.objects.get().external_account_id == "1" * 64


def test_updating_to_a_too_long_account_id_changes_nothing(admin_client, workspace):
    integration = IntegrationFactory(
        workspace=workspace,
        platform="whatsapp",
        external_account_id="1139",
        credentials=CREDENTIALS["whatsapp"],
    )

    response = admin_client.patch(
        f"/api/integrations/{integration.pk}",
        {"credentials": {"phone_number_id": TOO_LONG_ID}},
        format="json",
    )

    assert response.status_code == 400
    assert assert_error_shape(response)["details"] == {"phone_number_id": [TOO_LONG_MESSAGE]}
    integration.refresh_from_db()
    assert (integration.external_account_id, integration.credentials) == (
        "1139",
        CREDENTIALS["whatsapp"],
    )


def test_the_settings_page_shows_the_refusal_on_the_field(client, admin_user):
    # The workspace's language is Spanish: Django's own message, translated.
    client.force_login(admin_user)
    form = {"name": "Canal", **CREDENTIALS["whatsapp"], "phone_number_id": TOO_LONG_ID}

    response = client.post(reverse("settings-integration-create", args=["whatsapp"]), form)

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "phone_number_id": ["Asegúrese de que este valor tenga menos de 64 caracteres (tiene 65)."]
    }
    assert Integration.objects.count() == 0
