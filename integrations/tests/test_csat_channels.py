"""Satisfaction surveys on the real channels: native buttons go out to a local stand-in of each
platform's API, and the customer's button press comes back through the real signed webhook."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.core.cache import cache

from conversations.models import Conversation, Message
from conversations.services import (
    InboundMessage,
    OutboundDraft,
    conversation_set_status,
    message_send_agent,
)
from integrations import delivery
from integrations.inbound import customer_message_receive as message_receive_inbound
from integrations.tests import test_telegram as tg
from integrations.tests import test_whatsapp as wa
from integrations.tests.test_messenger_support import MESSENGER, channel_integration, post_signed
from integrations.tests.test_whatsapp_client import ACCEPTED
from satisfaction.models import SatisfactionRating, SatisfactionSurvey

pytestmark = pytest.mark.django_db

SCORES = ["1 ⭐", "2 ⭐", "3 ⭐", "4 ⭐", "5 ⭐"]


@pytest.fixture(autouse=True)
def surveys_on(workspace):
    workspace.settings = {"csat_survey": True}
    workspace.save(update_fields=["settings"])


def _deliver(message: Message) -> None:
    assert delivery.message_deliver(message_id=str(message.pk), attempt=0).status == "sent"


def _resolved_after_help(integration, admin_user, customer_id: str) -> Conversation:
    """The customer wrote, an agent answered (delivered), then the agent resolved."""
    inbound = message_receive_inbound(
        integration=integration,
        inbound=InboundMessage(
            external_contact_id=customer_id, external_id="in-1", content="¿Hacen envíos?"
        ),
    ).message
    conversation = inbound.conversation
    _deliver(
        message_send_agent(
            by=admin_user, conversation=conversation, draft=OutboundDraft(content="Sí, a todo MX")
        )
    )
    conversation_set_status(by=admin_user, conversation=conversation, status="resolved")
    return Conversation.objects.get(pk=conversation.pk)


def _survey_message(conversation: Conversation) -> Message:
    survey = SatisfactionSurvey.objects.get(conversation=conversation)
    return survey.message


def _assert_rated(conversation: Conversation, score: int) -> None:
    conversation.refresh_from_db()
    rating = SatisfactionRating.objects.get(conversation=conversation)
    assert (rating.score, rating.source) == (score, "customer")
    assert conversation.status == "resolved"  # the answer did not reopen it
    assert SatisfactionSurvey.objects.get(conversation=conversation).answered_at is not None


def test_whatsapp_survey_is_a_list_and_the_chosen_row_is_the_rating(
    fake_api, workspace, admin_user, client, django_capture_on_commit_callbacks
):
    integration = wa.whatsapp_integration(workspace)
    messages_path = rf"^/{settings.GRAPH_API_VERSION}/{wa.PHONE_NUMBER_ID}/messages$"
    survey_sent = {**ACCEPTED, "messages": [{"id": "wamid.survey"}]}
    fake_api.respond("POST", messages_path, body=survey_sent)
    fake_api.respond("POST", messages_path, body=ACCEPTED, times=1)  # the agent's answer
    conversation = _resolved_after_help(integration, admin_user, wa.CUSTOMER)

    _deliver(_survey_message(conversation))

    interactive = fake_api.calls[-1].body["interactive"]
    assert interactive["type"] == "list"  # five choices do not fit WhatsApp's three buttons
    rows = interactive["action"]["sections"][0]["rows"]
    assert [row["title"] for row in rows] == SCORES
    assert all(re.fullmatch(r"csat:[0-9a-f]{32}:[1-5]", row["id"]) for row in rows)

    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "104729835612345",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550001234",
                                "phone_number_id": wa.PHONE_NUMBER_ID,
                            },
                            "contacts": [{"profile": {"name": "Ana"}, "wa_id": wa.CUSTOMER}],
                            "messages": [
                                {
                                    "from": wa.CUSTOMER,
                                    "id": "wamid.csat-answer",
                                    "timestamp": "1790000000",
                                    "type": "interactive",
                                    "interactive": {
                                        "type": "list_reply",
                                        "list_reply": {"id": rows[3]["id"], "title": "4 ⭐"},
                                    },
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert wa.post_signed(client, json.dumps(body).encode()).status_code == 200

    _assert_rated(conversation, 4)
    answer = Message.objects.get(external_id="wamid.csat-answer")
    assert (answer.conversation_id, answer.content) == (conversation.pk, "4 ⭐")


def test_telegram_survey_has_an_inline_keyboard_and_a_press_is_the_rating(
    fake_api, workspace, admin_user, client, django_capture_on_commit_callbacks
):
    integration = tg.IntegrationFactory(
        workspace=workspace,
        platform="telegram",
        external_account_id="7012345678",
        credentials={"bot_token": tg.TOKEN, "secret_token": tg.SECRET},
    )
    sent = {"message_id": 77, "chat": {"id": int(tg.CHAT)}, "date": 1790000000}
    fake_api.respond("POST", r"/sendMessage$", body={"ok": True, "result": sent})
    answer = {**sent, "message_id": 76}
    fake_api.respond("POST", r"/sendMessage$", body={"ok": True, "result": answer}, times=1)
    fake_api.respond("POST", r"/answerCallbackQuery$", body={"ok": True, "result": True})
    conversation = _resolved_after_help(integration, admin_user, tg.CHAT)
    cache.clear()  # Telegram allows one message a second per chat: the survey is not the test

    _deliver(_survey_message(conversation))

    keyboard = fake_api.calls[-1].body["reply_markup"]["inline_keyboard"]
    assert [button["text"] for button in keyboard[0]] == SCORES
    five = keyboard[0][4]["callback_data"]
    assert len(five.encode()) <= 64  # Telegram's callback_data limit

    update = {
        "update_id": 900001,
        "callback_query": {
            "id": "4382bfdwdsb323b2d9",
            "from": {"id": int(tg.CHAT), "is_bot": False, "first_name": "Lucía"},
            "message": {
                "message_id": 77,
                "chat": {"id": int(tg.CHAT), "type": "private"},
                "date": 1790000000,
                "text": "¿Cómo calificarías la atención?",
            },
            "chat_instance": "-1234567890",
            "data": five,
        },
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = tg.post_update(client, integration, json.dumps(update).encode())
    assert response.status_code == 200

    _assert_rated(conversation, 5)
    answer = Message.objects.get(external_id="callback:4382bfdwdsb323b2d9")
    assert answer.content == "5 ⭐"  # not the raw callback data
    assert fake_api.calls[-1].path.endswith("/answerCallbackQuery")  # the spinner stops


def test_messenger_survey_has_quick_replies_and_the_tapped_one_is_the_rating(
    fake_api, workspace, admin_user, client, django_capture_on_commit_callbacks
):
    integration = channel_integration(workspace, MESSENGER)
    send_path = rf"^/{settings.GRAPH_API_VERSION}/me/messages$"
    fake_api.respond("POST", send_path, body={"message_id": "m_survey"})
    fake_api.respond("POST", send_path, body={"message_id": "m_answer"}, times=1)
    conversation = _resolved_after_help(integration, admin_user, MESSENGER.customer_id)
    conversation.refresh_from_db()

    _deliver(_survey_message(conversation))

    quick_replies = fake_api.calls[-1].body["message"]["quick_replies"]
    assert [reply["title"] for reply in quick_replies] == SCORES
    assert {reply["content_type"] for reply in quick_replies} == {"text"}

    body = {
        "object": "page",
        "entry": [
            {
                "id": MESSENGER.account_id,
                "time": 1790000000000,
                "messaging": [
                    {
                        "sender": {"id": MESSENGER.customer_id},
                        "recipient": {"id": MESSENGER.account_id},
                        "timestamp": 1790000000000,
                        "message": {
                            "mid": "m_csat_answer",
                            "text": "2 ⭐",
                            "quick_reply": {"payload": quick_replies[1]["payload"]},
                        },
                    }
                ],
            }
        ],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(client, "facebook", json.dumps(body).encode())
    assert response.status_code == 200

    _assert_rated(conversation, 2)


def test_whatsapp_three_choices_or_fewer_are_reply_buttons(fake_api, workspace, admin_user):
    integration = wa.whatsapp_integration(workspace)
    messages_path = rf"^/{settings.GRAPH_API_VERSION}/{wa.PHONE_NUMBER_ID}/messages$"
    fake_api.respond("POST", messages_path, body=ACCEPTED)
    inbound = message_receive_inbound(
        integration=integration,
        inbound=InboundMessage(external_contact_id=wa.CUSTOMER, external_id="in-1", content="?"),
    ).message
    choices = [{"id": "yes", "title": "Sí"}, {"id": "no", "title": "No"}]
    message = message_send_agent(
        by=admin_user,
        conversation=inbound.conversation,
        draft=OutboundDraft(content="¿Confirmas?", metadata={"quick_replies": choices}),
    )

    _deliver(message)

    assert fake_api.calls[-1].body["interactive"] == {
        "type": "button",
        "body": {"text": "¿Confirmas?"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "yes", "title": "Sí"}},
                {"type": "reply", "reply": {"id": "no", "title": "No"}},
            ]
        },
    }
