"""The webhooks pages in a real Chromium at 1440x900 and 390x844: an admin adds a webhook for
a local receiver (the secret shown once), an event reaches it signed, and the admin reads the
delivery log and redelivers from it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD
from conversations.services.events import message_new
from conversations.tests.factories import ConversationFactory, MessageFactory
from flame.testing import assert_usable_at, browser_sign_in, context_options, watch_errors
from outgoing_webhooks.models import WebhookEndpoint
from outgoing_webhooks.services import deliveries_dispatch
from outgoing_webhooks.tasks import deliver_webhook_task
from outgoing_webhooks.tests.receiver import running

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live_app_private(transactional_db, settings):
    """The product in daphne, allowed to send to the local receiver."""
    from flame.testing import live_daphne

    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = True
    settings.OUTGOING_WEBHOOKS_DISPATCH_LAG_SECONDS = 0
    with live_daphne(
        CELERY_TASK_ALWAYS_EAGER="1", RATELIMIT_ENABLE="0", OUTGOING_WEBHOOKS_ALLOW_PRIVATE="1"
    ) as url:
        yield url


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_an_admin_adds_a_webhook_reads_its_log_and_redelivers(
    chromium, live_app_private, admin_user, size
):
    workspace = admin_user.workspace
    workspace.language = "en"
    workspace.save(update_fields=["language"])
    context = chromium.new_context(**context_options(size))
    errors = watch_errors(context)
    page = context.new_page()
    browser_sign_in(page, live_app_private, admin_user.email, DEFAULT_PASSWORD)

    with running() as receiver:
        page.goto(f"{live_app_private}/settings/workspace/")
        page.get_by_test_id("link-webhooks").click()
        page.wait_for_url(lambda url: url.endswith("/settings/webhooks/"))
        page.wait_for_load_state("networkidle")
        assert_usable_at(page, size)
        page.fill("input[name=url]", receiver.url)
        page.get_by_label("Message created").check()
        page.get_by_test_id("webhook-create").click()
        receiver.secret = page.get_by_test_id("webhook-secret").input_value()
        assert receiver.secret == WebhookEndpoint.objects.get().secret
        page.wait_for_load_state("networkidle")
        assert_usable_at(page, size)

        # an event in the workspace, dispatched and sent as the beat and the worker would
        conversation = ConversationFactory(workspace=workspace, status="active")
        message_new(MessageFactory(conversation=conversation, content="Hola"), conversation)
        for delivery_id in deliveries_dispatch():
            deliver_webhook_task.delay(delivery_id)
        assert len(receiver.received) == 1
        assert receiver.received[0].verified

        page.get_by_test_id("webhook-open").click()
        page.wait_for_load_state("networkidle")
        expect(page.get_by_test_id("delivery-row")).to_have_count(1)
        expect(page.get_by_test_id("delivery-row")).to_contain_text("200")
        assert_usable_at(page, size)
        page.get_by_test_id("redeliver").click()
        page.wait_for_load_state("networkidle")
        expect(page.get_by_test_id("delivery-row")).to_contain_text("by hand")
        assert len(receiver.received) == 2
        assert receiver.received[1].verified
        assert_usable_at(page, size)
    context.close()
    assert errors == []
