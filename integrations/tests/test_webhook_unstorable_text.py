"""A platform may send text the database cannot store (NUL, a lone surrogate: both legal in
JSON). Such a message is stored cleaned, and the other messages of the same delivery are not
lost with it. PostgreSQL is where this failed: it refuses NUL in text and jsonb."""

from __future__ import annotations

import json

import pytest

from conversations.models import Contact, Message
from integrations.models import WebhookEvent
from integrations.tests.test_whatsapp import (
    CUSTOMER,
    PHONE_NUMBER_ID,
    deliver,
    whatsapp_integration,
)

pytestmark = pytest.mark.django_db

SECOND_CUSTOMER = "5215511112222"


def _message(sender: str, message_id: str, text: str, timestamp: str) -> dict:
    return {
        "from": sender,
        "id": message_id,
        "timestamp": timestamp,
        "type": "text",
        "text": {"body": text},
    }


def _delivery() -> bytes:
    """One signed delivery, two customers: the first message carries NUL in its text and a
    lone surrogate in its sender's name, the second is ordinary."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "525512340000", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [
            {"profile": {"name": "Mar\ud800ía"}, "wa_id": CUSTOMER},
            {"profile": {"name": "Luis"}, "wa_id": SECOND_CUSTOMER},
        ],
        "messages": [
            _message(CUSTOMER, "wamid.NUL1", "Hola\x00 ¿tienen envíos?", "1789482605"),
            _message(SECOND_CUSTOMER, "wamid.PLAIN2", "Buenos días", "1789482606"),
        ],
    }
    change = {"value": value, "field": "messages"}
    body = {"object": "whatsapp_business_account", "entry": [{"id": "1047", "changes": [change]}]}
    # Escaped, as Meta sends them: "\u0000" and "\ud800" inside the JSON text.
    return json.dumps(body).encode()


@pytest.fixture
def whatsapp(workspace, settings):
    settings.META_APP_SECRET = ""
    return whatsapp_integration(workspace)


def test_a_message_with_nul_is_stored_cleaned_beside_the_rest_of_its_delivery(
    client, whatsapp, django_capture_on_commit_callbacks
):
    body = _delivery()
    assert b"\\u0000" in body
    assert b"\\ud800" in body

    deliver(client, django_capture_on_commit_callbacks, body)

    stored = dict(Message.objects.values_list("external_id", "content"))
    assert stored == {"wamid.NUL1": "Hola ¿tienen envíos?", "wamid.PLAIN2": "Buenos días"}
    names = set(Contact.objects.values_list("name", flat=True))
    assert names == {"Mar\ufffdía", "Luis"}
    event = WebhookEvent.objects.get()
    assert (event.status, event.items_count, event.error) == ("processed", 2, "")
    # The raw body is kept exactly as received (it is what the signature covers).
    assert bytes(event.body) == body


def test_the_same_delivery_again_changes_nothing(
    client, whatsapp, django_capture_on_commit_callbacks
):
    body = _delivery()
    deliver(client, django_capture_on_commit_callbacks, body)
    messages = list(Message.objects.order_by("external_id").values("external_id", "content"))

    again = deliver(client, django_capture_on_commit_callbacks, body)

    assert again.json() == {"status": "ok", "duplicate": True}
    assert list(Message.objects.order_by("external_id").values("external_id", "content")) == (
        messages
    )
    assert WebhookEvent.objects.count() == 1


def test_an_over_long_profile_name_is_cut_to_fit_and_the_message_kept(
    client, whatsapp, django_capture_on_commit_callbacks
):
    # given: a profile name longer than the contact's name column
    body = json.loads(_delivery())
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["profile"]["name"] = "N" * 500

    # when
    deliver(client, django_capture_on_commit_callbacks, json.dumps(body).encode())

    # then
    assert WebhookEvent.objects.get().status == "processed"
    assert Message.objects.count() == 2
    assert Contact.objects.get(identities__external_id=CUSTOMER).name == "N" * 200
