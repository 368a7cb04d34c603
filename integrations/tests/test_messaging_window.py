"""The messaging window (conversations/window.py with each provider's rule): computed once and
used by the API, the inbox, sending (refused before anything is stored), delivery (checked
again without calling the platform) and the satisfaction survey."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from conversations.models import Attachment, ContactIdentity, Conversation, Message
from conversations.tests.factories import ConversationFactory
from conversations.tests.media_samples import png
from conversations.window import messaging_window
from integrations import delivery
from integrations.tests.factories import IntegrationFactory
from integrations.tests.test_messenger_support import MESSENGER, channel_integration
from integrations.tests.test_whatsapp import whatsapp_integration
from satisfaction import csat
from satisfaction.models import SatisfactionSurvey

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def chat(integration, *, hours_ago: float | None, at=NOW, **fields) -> Conversation:
    """A conversation on ``integration`` whose customer last wrote ``hours_ago`` hours before
    ``at`` (None: never)."""
    wrote = at - timedelta(hours=hours_ago) if hours_ago is not None else None
    conversation = ConversationFactory(
        workspace=integration.workspace,
        integration=integration,
        platform=integration.platform,
        last_customer_message_at=wrote,
        **fields,
    )
    ContactIdentity.objects.create(
        contact=conversation.contact, integration=integration, external_id="5215587654321"
    )
    return conversation


@pytest.fixture
def whatsapp(workspace):
    return whatsapp_integration(workspace)


@pytest.fixture
def page(workspace):
    return channel_integration(workspace, MESSENGER)


# --- the rule, per platform ----------------------------------------------------------------------


def test_whatsapp_is_open_for_24_hours_after_the_customer_wrote(whatsapp):
    conversation = chat(whatsapp, hours_ago=2)

    window = messaging_window(conversation, now=NOW)

    assert window.as_data(NOW) == {
        "limited": True,
        "open": True,
        "closes_at": (NOW + timedelta(hours=22)).isoformat(),
        "seconds_left": 22 * 3600,
        "human_agent": False,
        "templates": True,
    }


@pytest.mark.parametrize("hours_ago", [25, None])
def test_whatsapp_is_closed_after_24_hours_or_before_the_customer_wrote(whatsapp, hours_ago):
    conversation = chat(whatsapp, hours_ago=hours_ago)

    assert messaging_window(conversation, now=NOW).as_data(NOW) == {
        "limited": True,
        "open": False,
        "closes_at": None,
        "seconds_left": None,
        "human_agent": False,
        "templates": True,
    }


def test_messenger_gives_a_human_agent_seven_days(page):
    conversation = chat(page, hours_ago=30)

    for_agent = messaging_window(conversation, sender="agent", now=NOW)
    for_assistant = messaging_window(conversation, sender="assistant", now=NOW)

    assert (for_agent.open, for_agent.human_agent, for_agent.closes_at) == (
        True,
        True,
        NOW - timedelta(hours=30) + timedelta(days=7),
    )
    assert (for_assistant.open, for_assistant.human_agent) == (False, False)


def test_messenger_is_closed_for_everyone_after_seven_days(page):
    conversation = chat(page, hours_ago=24 * 8)

    assert messaging_window(conversation, sender="agent", now=NOW).open is False


def test_telegram_and_conversations_without_a_channel_have_no_window(workspace):
    telegram = IntegrationFactory(workspace=workspace, platform="telegram")
    by_hand = ConversationFactory(workspace=workspace, platform="whatsapp", integration=None)

    for conversation in (chat(telegram, hours_ago=24 * 30), by_hand):
        window = messaging_window(conversation, now=NOW)
        assert (window.limited, window.open, window.closes_at) == (False, True, None)


# --- shown by the API and the inbox page ---------------------------------------------------------


def test_the_api_shows_the_window_with_the_time_left(admin_client, whatsapp):
    conversation = chat(whatsapp, hours_ago=23, at=timezone.now())

    shown = admin_client.get(f"/api/conversations/{conversation.pk}").json()["messaging_window"]

    assert (shown["open"], shown["templates"], shown["human_agent"]) == (True, True, False)
    assert 3590 <= shown["seconds_left"] <= 3600


def test_the_inbox_page_hands_the_window_to_its_scripts(client, admin_user, whatsapp):
    conversation = chat(whatsapp, hours_ago=30)
    client.force_login(admin_user)

    page = client.get(f"/inbox/{conversation.pk}/")

    assert page.context["boot"]["conversation"]["messaging_window"]["open"] is False
    assert b'data-testid="reply-window"' in page.content
    assert b'data-testid="template-dialog"' in page.content


# --- refused before sending ----------------------------------------------------------------------


def test_free_text_outside_the_window_is_refused_and_nothing_is_stored(
    fake_api, admin_client, whatsapp, django_capture_on_commit_callbacks
):
    conversation = chat(whatsapp, hours_ago=25)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/api/conversations/{conversation.pk}/messages", {"content": "¿Sigue ahí?"}
        )

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "reply_window_closed",
        "message": "The messaging window has closed: only an approved template can be sent "
        "until the customer writes.",
        "details": {"templates": True},
    }
    assert Message.objects.count() == 0
    assert fake_api.calls == []


def test_a_file_outside_the_window_is_refused_before_it_is_stored(admin_client, page):
    conversation = chat(page, hours_ago=24 * 8)
    file = SimpleUploadedFile("a.png", png(), content_type="image/png")

    response = admin_client.post(
        f"/api/conversations/{conversation.pk}/messages", {"file": file}, format="multipart"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "reply_window_closed"
    assert (Message.objects.count(), Attachment.objects.count()) == (0, 0)


def test_a_human_agent_may_still_answer_on_messenger_after_a_day(
    fake_api, admin_client, page, django_capture_on_commit_callbacks
):
    conversation = chat(page, hours_ago=30)
    fake_api.respond("POST", r"/me/messages$", body={"recipient_id": "x", "message_id": "m_1"})

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/api/conversations/{conversation.pk}/messages", {"content": "Ya lo revisé"}
        )

    assert response.status_code == 201
    (call,) = fake_api.calls
    assert (call.body["messaging_type"], call.body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def failed_text(conversation, admin_user) -> Message:
    return Message.objects.create(
        conversation=conversation,
        workspace_id=conversation.workspace_id,
        integration=conversation.integration,
        sender="agent",
        author=admin_user,
        content="¿Le llegó?",
        status="failed",
        error_code="131000",
    )


def test_retrying_a_failed_message_after_the_window_closed_is_refused(
    admin_client, admin_user, whatsapp
):
    conversation = chat(whatsapp, hours_ago=26)
    message = failed_text(conversation, admin_user)

    response = admin_client.post(
        f"/api/conversations/{conversation.pk}/messages/{message.pk}/retry"
    )

    assert response.status_code == 409
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", "131000")


def test_delivery_checks_the_window_again_without_calling_the_platform(
    fake_api, admin_user, whatsapp
):
    # Queued inside the window; the worker gets to it after the window closed.
    conversation = chat(whatsapp, hours_ago=1)
    message = Message.objects.create(
        conversation=conversation,
        workspace_id=conversation.workspace_id,
        integration=whatsapp,
        sender="agent",
        author=admin_user,
        content="Hola",
        status="queued",
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        last_customer_message_at=NOW - timedelta(hours=25)
    )

    outcome = delivery.message_deliver(message_id=str(message.pk))

    assert outcome == delivery.Outcome(status="failed")
    message.refresh_from_db()
    assert (message.status, message.error_code, message.error_message) == (
        "failed",
        "reply_window_closed",
        "The messaging window closed before this message could be sent: only an approved "
        "template can be sent until the customer writes again.",
    )
    assert fake_api.calls == []


# --- the survey asks the same window -------------------------------------------------------------


@pytest.mark.parametrize(("hours_ago", "surveys"), [(2, 1), (30, 0)])
def test_the_survey_is_an_assistant_message_and_keeps_to_the_24_hours(
    admin_client, workspace, page, hours_ago, surveys
):
    # At 30 hours an agent may still write on Messenger; the survey (an assistant's) may not.
    workspace.settings = {csat.SURVEY_SETTING: True}
    workspace.save(update_fields=["settings"])
    conversation = chat(page, hours_ago=hours_ago, first_response_at=NOW - timedelta(hours=1))

    response = admin_client.post(
        f"/api/conversations/{conversation.pk}/status", {"status": "resolved"}, format="json"
    )

    assert response.status_code == 200
    assert SatisfactionSurvey.objects.count() == surveys
