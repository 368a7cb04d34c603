"""Files, the messaging window and templates in a real Chromium against a real daphne, on a
laptop (1440x900) and a phone (390x844): a customer's photo arrives in the open thread (the
download runs in the test process against a local Graph API stand-in, into the storage daphne
serves from), the agent sends a document from the composer, and a WhatsApp conversation past
its 24 hours offers an approved template instead of free text. The channel pages that keep
templates and the bot's commands are checked at both sizes too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD
from conversations.models import Conversation, Message
from conversations.tests.media_samples import PDF, png
from conversations.types import InboundAttachment, InboundMessage
from flame.testing import (
    assert_usable_at,
    browser_sign_in,
    context_options,
    live_daphne,
    watch_errors,
)
from integrations.inbound import customer_message_receive
from integrations.models import MessageTemplate
from integrations.tests.factories import IntegrationFactory
from integrations.tests.test_messenger_support import (
    MESSENGER,
    channel_integration,
    customer_conversation,
)
from integrations.tests.test_whatsapp import whatsapp_integration
from integrations.tests.test_whatsapp_client import ACCEPTED, CUSTOMER, MESSAGES_PATH

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SIZES = ["desktop", "phone"]
LIVE = 10_000  # ms
PHOTO = png(40, 30)


@pytest.fixture
def server(fake_api, transactional_db):
    """daphne serving this test's database and storage, calling the platforms' stand-in."""
    with live_daphne(
        CELERY_TASK_ALWAYS_EAGER="1",
        RATELIMIT_ENABLE="0",
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        GRAPH_API_BASE_URL=fake_api.base_url,
        TELEGRAM_API_BASE_URL=fake_api.base_url,
    ) as url:
        yield url


@pytest.fixture
def device(chromium, server, request):
    context = chromium.new_context(**context_options(request.param))
    errors = watch_errors(context)
    yield request.param, context.new_page()
    context.close()
    assert errors == [], f"browser console errors: {errors}"


@pytest.fixture
def english(workspace):
    workspace.language = "en"  # the assertions read English; the factories' speak Spanish
    workspace.save(update_fields=["language"])
    return workspace


def _press(locator, size: str) -> None:
    if size == "phone":
        locator.tap()
    else:
        locator.click()


def _open(page, server: str, user, path: str) -> None:
    browser_sign_in(page, server, user.email, DEFAULT_PASSWORD)
    page.goto(f"{server}{path}")


def _messages(page):
    return page.get_by_test_id("message")


@pytest.mark.parametrize("device", SIZES, indirect=True)
def test_a_customer_photo_arrives_and_the_agent_sends_a_document(
    device, server, fake_api, english, admin_user
):
    size, page = device
    page_channel = channel_integration(english, MESSENGER)
    conversation = customer_conversation(page_channel, MESSENGER.customer_id)
    fake_api.respond("GET", r"^/cdn/parcel\.png$", body=PHOTO)
    fake_api.respond("POST", r"/me/messages$", body={"recipient_id": "x", "message_id": "m_doc"})
    _open(page, server, admin_user, f"/inbox/{conversation.pk}/")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-state", "online")
    expect(_messages(page)).to_have_count(1)

    # the customer sends a photo of the damaged parcel: it is downloaded and shown live
    photo = InboundAttachment(kind="image", source_url=f"{fake_api.base_url}/cdn/parcel.png")
    customer_message_receive(
        integration=page_channel,
        inbound=InboundMessage(
            external_contact_id=MESSENGER.customer_id,
            external_id="m_parcel_photo",
            content="Así llegó la caja",
            type="image",
            attachments=(photo,),
        ),
    )
    expect(_messages(page)).to_have_count(2, timeout=LIVE)
    image = _messages(page).last.get_by_test_id("attachment-image")
    expect(image).to_be_visible(timeout=LIVE)
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth === 40", arg=image.element_handle()
    )
    expect(_messages(page).last.get_by_test_id("message-text")).to_have_text("Así llegó la caja")

    # it opens larger, and closes again
    _press(image, size)
    expect(page.get_by_test_id("lightbox-image")).to_be_visible()
    _press(page.get_by_test_id("lightbox"), size)
    expect(page.get_by_test_id("lightbox")).to_be_hidden()
    assert_usable_at(page, size)

    # the agent attaches the invoice and sends it
    page.get_by_test_id("composer-file-input").set_input_files(
        {"name": "factura-8841.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    expect(page.get_by_test_id("composer-file-name")).to_have_text("factura-8841.pdf")
    assert_usable_at(page, size)
    _press(page.get_by_test_id("composer-send"), size)
    sent = _messages(page).last
    expect(sent).to_have_attribute("data-sender", "agent")
    document = sent.get_by_test_id("attachment-document")
    expect(document).to_contain_text("factura-8841.pdf")
    expect(sent.get_by_test_id("message-status")).to_have_attribute("data-status", "sent")
    expect(page.get_by_test_id("composer-file")).to_be_hidden()
    assert document.get_attribute("href").endswith("/file?download=1")

    message = Message.objects.get(sender="agent")
    (attachment,) = message.attachments.all()
    assert (message.type, attachment.file_name, attachment.mime_type) == (
        "file",
        "factura-8841.pdf",
        "application/pdf",
    )
    (send,) = fake_api.calls_to(r"/me/messages$")
    assert send.form()["filedata"].content == PDF


@pytest.mark.parametrize("device", SIZES, indirect=True)
def test_after_the_window_the_composer_offers_a_template(
    device, server, fake_api, english, admin_user
):
    size, page = device
    whatsapp = whatsapp_integration(english)
    conversation = customer_conversation(whatsapp, CUSTOMER)
    Conversation.objects.filter(pk=conversation.pk).update(
        last_customer_message_at=timezone.now() - timedelta(hours=30)
    )
    MessageTemplate.objects.create(
        workspace=english,
        integration=whatsapp,
        name="order_update",
        language="en_US",
        status="approved",
        category="utility",
        components=[{"type": "BODY", "text": "Hi {{1}}, your order {{2}} ships today."}],
    )
    fake_api.respond("POST", MESSAGES_PATH, body=ACCEPTED)
    _open(page, server, admin_user, f"/inbox/{conversation.pk}/")

    # free text is not possible, and the page says why
    notice = page.get_by_test_id("reply-window")
    expect(notice).to_have_attribute("data-state", "closed")
    expect(page.get_by_test_id("reply-window-text")).to_contain_text("free text cannot be sent")
    expect(page.get_by_test_id("composer-input")).to_be_disabled()
    expect(page.get_by_test_id("composer-send")).to_be_disabled()
    assert_usable_at(page, size)

    # a template can be sent
    _press(page.get_by_test_id("reply-window-template"), size)
    dialog = page.get_by_test_id("template-dialog")
    expect(dialog).to_be_visible()
    expect(page.get_by_test_id("template-select")).to_have_value("0")
    fields = page.get_by_test_id("template-body-parameter")
    expect(fields).to_have_count(2)
    fields.nth(0).fill("Ana")
    fields.nth(1).fill("#8841")
    expect(page.get_by_test_id("template-preview")).to_have_text(
        "Hi Ana, your order #8841 ships today."
    )
    assert_usable_at(page, size)
    _press(page.get_by_test_id("template-send"), size)
    expect(dialog).to_be_hidden()
    sent = _messages(page).last
    expect(sent.get_by_test_id("message-text")).to_have_text(
        "Hi Ana, your order #8841 ships today."
    )
    expect(sent.get_by_test_id("message-template")).to_have_text("Template: order_update")
    expect(sent.get_by_test_id("message-status")).to_have_attribute("data-status", "sent")
    (call,) = fake_api.calls_to(r"/messages$")
    assert call.body["template"]["name"] == "order_update"


@pytest.mark.parametrize("device", SIZES, indirect=True)
def test_the_contact_panel_lists_the_customer_channels(device, server, english, admin_user):
    size, page = device
    telegram = IntegrationFactory(workspace=english, platform="telegram", name="Bot")
    conversation = customer_message_receive(
        integration=telegram,
        inbound=InboundMessage(
            external_contact_id="5126743981",
            external_id="5126743981:1",
            content="Hola",
            contact_name="Lucía",
            contact_username="lucia_fdz",
        ),
    ).message.conversation
    _open(page, server, admin_user, f"/inbox/{conversation.pk}/#details")

    identity = page.get_by_test_id("contact-identity")
    if size == "phone":
        expect(page.get_by_test_id("details-pane")).to_be_visible()
    expect(identity).to_have_count(1)
    expect(identity.get_by_test_id("identity-external-id")).to_have_text("5126743981")
    expect(identity.get_by_test_id("identity-username")).to_have_text("@lucia_fdz")
    assert_usable_at(page, size)


@pytest.mark.parametrize("device", SIZES, indirect=True)
def test_the_channel_pages_for_templates_and_bot_commands(
    device, server, fake_api, english, admin_user
):
    size, page = device
    whatsapp = whatsapp_integration(english)
    MessageTemplate.objects.create(
        workspace=english,
        integration=whatsapp,
        name="order_update",
        language="en_US",
        status="approved",
        components=[{"type": "BODY", "text": "Hi {{1}}, your order {{2}} ships today."}],
    )
    bot = IntegrationFactory(workspace=english, platform="telegram", name="Shop bot")
    fake_api.respond("POST", r"/setMyCommands$", body={"ok": True, "result": True})

    _open(page, server, admin_user, f"/settings/integrations/{whatsapp.pk}/")
    expect(page.get_by_test_id("template-counts")).to_have_text("1 template, 1 approved.")
    assert_usable_at(page, size)
    _press(page.get_by_test_id("open-templates"), size)
    expect(page.get_by_test_id("template-row")).to_have_count(1)
    expect(page.get_by_test_id("template-status")).to_have_text("Approved")
    assert_usable_at(page, size)

    page.goto(f"{server}/settings/integrations/{bot.pk}/")
    page.get_by_label("Commands").fill("order - Where is my order?")
    assert_usable_at(page, size)
    _press(page.get_by_test_id("bot-commands-save"), size)
    expect(page.get_by_text("Bot commands saved.")).to_be_visible()
    expect(page.get_by_label("Commands")).to_have_value("order - Where is my order?")
    english.refresh_from_db()
    assert english.settings["bot_commands"] == [
        {"command": "order", "description": "Where is my order?"}
    ]
