"""After a merge, the customer's messages on the folded contact's channel arrive through the
whole webhook flow in the kept contact's conversation; after the undo, in the folded one's."""

from __future__ import annotations

import json

import pytest

from conversations.models import Contact, ContactIdentity, Conversation, Message
from conversations.tests.factories import ContactFactory, ConversationFactory
from integrations.tests.factories import IntegrationFactory
from integrations.tests.test_whatsapp import CUSTOMER, deliver, payload, whatsapp_integration

pytestmark = pytest.mark.django_db


@pytest.fixture
def whatsapp(workspace, settings):
    settings.META_APP_SECRET = ""
    return whatsapp_integration(workspace)


def _text(message_id: str, text: str) -> bytes:
    """The customer's text message of ``payload("text")``, with its own id and words."""
    body = json.loads(payload("text"))
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    message["id"], message["text"]["body"] = message_id, text
    return json.dumps(body).encode()


@pytest.fixture
def ana_on_instagram(workspace):
    instagram = IntegrationFactory(workspace=workspace, platform="instagram")
    ana = ContactFactory(workspace=workspace, name="Ana López", phone="", email="ana@shop.example")
    ContactIdentity.objects.create(contact=ana, integration=instagram, external_id="IGSID-1")
    ConversationFactory(
        workspace=workspace, contact=ana, integration=instagram, platform="instagram"
    )
    return ana


def test_the_customer_writes_on_after_a_merge_and_its_undo(
    client, admin_client, whatsapp, ana_on_instagram, django_capture_on_commit_callbacks
):
    # given: Ana wrote on WhatsApp, which made a contact of its own
    deliver(client, django_capture_on_commit_callbacks, payload("text"))
    on_whatsapp = Contact.objects.get(identities__external_id=CUSTOMER)
    thread = Conversation.objects.get(contact=on_whatsapp)
    # when: an agent merges it into Ana as Instagram knows her
    merged = admin_client.post(
        f"/api/contacts/{ana_on_instagram.pk}/merge",
        {"other_id": str(on_whatsapp.pk)},
        format="json",
    )
    assert merged.status_code == 201
    deliver(client, django_capture_on_commit_callbacks, _text("wamid.after-merge", "¿Y el envío?"))

    # then: the message is in the same thread, which is Ana's (the kept contact's) now
    message = Message.objects.get(external_id="wamid.after-merge")
    assert message.conversation_id == thread.pk
    assert Conversation.objects.get(pk=thread.pk).contact_id == ana_on_instagram.pk
    assert Contact.objects.count() == 2
    assert Conversation.objects.count() == 2

    # and a resolved thread is reopened on the kept contact, never on the hidden one
    Conversation.objects.filter(pk=thread.pk).update(status="resolved")
    deliver(client, django_capture_on_commit_callbacks, _text("wamid.reopen", "Hola otra vez"))
    reopened = Message.objects.get(external_id="wamid.reopen").conversation
    assert (reopened.pk, reopened.status, reopened.contact_id) == (
        thread.pk,
        "active",
        ana_on_instagram.pk,
    )
    assert not Conversation.objects.filter(contact=on_whatsapp).exists()

    # after the undo, WhatsApp's messages reach the contact WhatsApp made again
    undone = admin_client.post(f"/api/contact-merges/{merged.json()['id']}/undo")
    assert undone.status_code == 200
    deliver(client, django_capture_on_commit_callbacks, _text("wamid.after-undo", "Gracias"))
    back = Message.objects.get(external_id="wamid.after-undo").conversation
    assert (back.pk, back.contact_id) == (thread.pk, on_whatsapp.pk)
    assert Conversation.objects.filter(contact=ana_on_instagram).count() == 1
