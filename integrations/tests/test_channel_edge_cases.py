"""The channels' edge cases, through the real webhook views and local platform stand-ins:
Messenger threads another app owns, Telegram usernames, deep links, blocked bots, groups that
became supergroups, the bot's command menu, identities on the contact, and a customer's
deletion that takes our copy of the files with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings

from assistants.models import AutoReplyJob
from assistants.selectors import conversation_turns
from assistants.tests.factories import AssistantFactory
from conversations.models import Attachment, ContactIdentity, Message
from conversations.tests.media_samples import png
from integrations.tests.factories import IntegrationFactory
from integrations.tests.test_media_downloads import graph_media
from integrations.tests.test_messenger_support import (
    MESSENGER,
    channel_integration,
    customer_conversation,
    post_signed,
)
from integrations.tests.test_telegram import (
    CHAT,
    SECRET,
    TOKEN,
    post_update,
    refusal,
    sent_message,
)
from integrations.tests.test_telegram import payload as telegram_payload
from integrations.tests.test_whatsapp import deliver, whatsapp_integration
from integrations.tests.test_whatsapp import payload as whatsapp_payload

pytestmark = pytest.mark.django_db

GROUP = "-4081234567"
SUPERGROUP = "-1001987654321"


def stored_files() -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


# --- Messenger: a thread another app owns --------------------------------------------------------


def messenger_text(field: str, mid: str) -> bytes:
    event = {
        "sender": {"id": MESSENGER.customer_id},
        "recipient": {"id": MESSENGER.account_id},
        "timestamp": 1789482605123,
        "message": {"mid": mid, "text": "¿Siguen con el envío gratis?"},
    }
    entry = {"id": MESSENGER.account_id, "time": 1789482605200, field: [event]}
    return json.dumps({"object": "page", "entry": [entry]}).encode()


@pytest.fixture
def page_with_assistant(workspace):
    page = channel_integration(workspace, MESSENGER)
    page.default_assistant = AssistantFactory(workspace=workspace)
    page.save()
    return page


def test_a_standby_message_is_stored_but_no_assistant_answers_it(
    client, page_with_assistant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, "facebook", messenger_text("standby", "m_standby_1"))

    message = Message.objects.get()
    assert (message.sender, message.content, message.metadata["standby"]) == (
        "user",
        "¿Siguen con el envío gratis?",
        True,
    )
    assert AutoReplyJob.objects.count() == 0
    assert Message.objects.filter(sender="assistant").count() == 0


def test_the_same_message_in_our_own_thread_is_answered(
    client, page_with_assistant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, "facebook", messenger_text("messaging", "m_ours_1"))

    assert "standby" not in Message.objects.get(sender="user").metadata
    assert AutoReplyJob.objects.count() == 1


# --- Telegram ------------------------------------------------------------------------------------


@pytest.fixture
def telegram(workspace):
    return IntegrationFactory(
        workspace=workspace,
        platform="telegram",
        external_account_id="7012345678",
        credentials={"bot_token": TOKEN, "secret_token": SECRET},
    )


def telegram_text(text: str, *, message_id: int = 1250, chat: str = CHAT) -> bytes:
    message = {
        "message_id": message_id,
        "from": {"id": 5126743981, "is_bot": False, "first_name": "Lucía", "username": "lucia_fdz"},
        "chat": {
            "id": int(chat),
            "first_name": "Lucía",
            "username": "lucia_fdz",
            "type": "private",
        },
        "date": 1789482611,
        "text": text,
    }
    return json.dumps({"update_id": 718204600 + message_id, "message": message}).encode()


def test_a_deep_link_payload_is_kept_and_the_assistant_reads_it(
    client, telegram, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_update(client, telegram, telegram_text("/start promo-verano_2026"))

    message = Message.objects.get()
    assert (message.content, message.metadata["start_payload"]) == (
        "/start promo-verano_2026",
        "promo-verano_2026",
    )
    turns, _at = conversation_turns(conversation_id=message.conversation_id, limit=5)
    assert turns[0].content == (
        "/start promo-verano_2026\n"
        "[The customer opened the chat from a link with the code promo-verano_2026]"
    )


def test_a_plain_start_has_no_payload(client, telegram, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_update(client, telegram, telegram_text("/start"))

    assert "start_payload" not in Message.objects.get().metadata


def test_the_contact_api_shows_each_identity(
    admin_client, outsider_client, client, telegram, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_update(client, telegram, telegram_payload("text_message"))
        post_update(client, telegram, telegram_payload("bot_blocked"))
    identity = ContactIdentity.objects.get()

    response = admin_client.get(f"/api/contacts/{identity.contact_id}")

    assert response.json()["identities"] == [
        {
            "id": str(identity.pk),
            "integration_id": str(telegram.pk),
            "platform": "telegram",
            "external_id": CHAT,
            "username": "lucia_fdz",
            "blocked": True,
        }
    ]
    assert outsider_client.get(f"/api/contacts/{identity.contact_id}").status_code == 404


def agent_reply(admin_client, conversation, capture, text: str = "Ya salió") -> Message:
    with capture(execute=True):
        response = admin_client.post(
            f"/api/conversations/{conversation.pk}/messages", {"content": text}, format="json"
        )
    assert response.status_code == 201, response.content
    return Message.objects.get(pk=response.json()["id"])


def test_after_a_block_sends_fail_at_once_until_the_customer_unblocks(
    fake_api, client, admin_client, telegram, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    conversation = customer_conversation(telegram, CHAT)
    fake_api.respond("POST", r"/sendMessage$", body=sent_message(1301))
    with capture(execute=True):
        post_update(client, telegram, telegram_payload("bot_blocked"))

    blocked = agent_reply(admin_client, conversation, capture)
    with capture(execute=True):
        post_update(client, telegram, telegram_payload("bot_unblocked"))
    after = agent_reply(admin_client, conversation, capture, "¿Seguimos?")

    blocked.refresh_from_db()
    after.refresh_from_db()
    assert (blocked.status, blocked.error_code, blocked.error_message) == (
        "failed",
        "recipient_blocked",
        "The customer blocked this channel: nothing reaches them until they unblock it.",
    )
    assert (after.status, after.external_id) == ("sent", f"{CHAT}:1301")
    assert len(fake_api.calls) == 1  # only the send after the unblock reached Telegram


def test_a_blocked_answer_from_telegram_is_remembered(
    fake_api, admin_client, telegram, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    conversation = customer_conversation(telegram, CHAT)
    fake_api.respond(
        "POST",
        r"/sendMessage$",
        status=403,
        body=refusal(403, "Forbidden: bot was blocked by the user"),
    )

    first = agent_reply(admin_client, conversation, capture)
    second = agent_reply(admin_client, conversation, capture, "¿Hola?")

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.error_code, second.error_code) == ("bot_blocked", "recipient_blocked")
    assert ContactIdentity.objects.get().metadata["blocked"] is True
    assert len(fake_api.calls) == 1


def test_a_group_that_became_a_supergroup_gets_the_message_again_once(
    fake_api, admin_client, telegram, django_capture_on_commit_callbacks
):
    conversation = customer_conversation(telegram, GROUP)
    fake_api.respond("POST", r"/sendMessage$", body=sent_message(88, chat={"id": int(SUPERGROUP)}))
    moved = refusal(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        migrate_to_chat_id=int(SUPERGROUP),
    )
    fake_api.respond("POST", r"/sendMessage$", status=400, body=moved, times=1)

    message = agent_reply(admin_client, conversation, django_capture_on_commit_callbacks)

    message.refresh_from_db()
    assert (message.status, message.external_id) == ("sent", f"{SUPERGROUP}:88")
    assert [call.body["chat_id"] for call in fake_api.calls] == [int(GROUP), int(SUPERGROUP)]
    assert ContactIdentity.objects.get().external_id == SUPERGROUP


def test_the_migration_service_message_moves_the_conversation(
    client, telegram, django_capture_on_commit_callbacks
):
    customer_conversation(telegram, GROUP)
    service = {
        "message_id": 40,
        "from": {"id": 5126743981, "is_bot": False, "first_name": "Lucía"},
        "chat": {"id": int(GROUP), "title": "Pedidos Lucía", "type": "group"},
        "date": 1789482700,
        "migrate_to_chat_id": int(SUPERGROUP),
    }
    body = json.dumps({"update_id": 718204700, "message": service}).encode()

    with django_capture_on_commit_callbacks(execute=True):
        post_update(client, telegram, body)

    assert ContactIdentity.objects.get().external_id == SUPERGROUP
    assert Message.objects.count() == 1  # the service message is not a message


# --- the bot's command menu ----------------------------------------------------------------------

COMMANDS = [
    {"command": "pedido", "description": "¿Dónde está mi pedido?"},
    {"command": "horario", "description": "Horario de la tienda"},
]


def test_an_admin_sets_the_command_menu_on_every_bot(fake_api, admin_client, telegram, workspace):
    fake_api.respond("POST", r"/setMyCommands$", body={"ok": True, "result": True})

    response = admin_client.put(
        "/api/integrations/bot-commands",
        {"commands": [{**COMMANDS[0], "command": "/pedido"}, COMMANDS[1]]},
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == {
        "commands": COMMANDS,
        "channels": [{"integration_id": str(telegram.pk), "name": telegram.name, "error": ""}],
    }
    workspace.refresh_from_db()
    assert workspace.settings["bot_commands"] == COMMANDS
    (call,) = fake_api.calls
    assert (call.path, call.body) == (f"/bot{TOKEN}/setMyCommands", {"commands": COMMANDS})
    assert admin_client.get("/api/integrations/bot-commands").json() == {"commands": COMMANDS}


@pytest.mark.parametrize(
    "commands",
    [
        [{"command": "Pedido!", "description": "x"}],
        [{"command": "pedido", "description": ""}],
        [{"command": "a" * 33, "description": "x"}],
    ],
)
def test_a_command_telegram_would_refuse_is_refused_here(
    fake_api, admin_client, telegram, workspace, commands
):
    response = admin_client.put(
        "/api/integrations/bot-commands", {"commands": commands}, format="json"
    )

    assert response.status_code == 400
    workspace.refresh_from_db()
    assert "bot_commands" not in workspace.settings
    assert fake_api.calls == []


def test_agents_cannot_change_the_command_menu(agent_client, workspace):
    response = agent_client.put(
        "/api/integrations/bot-commands", {"commands": COMMANDS}, format="json"
    )

    assert response.status_code == 403
    workspace.refresh_from_db()
    assert "bot_commands" not in workspace.settings


def test_a_bot_connected_later_gets_the_menu(fake_api, admin_client, telegram, workspace):
    workspace.settings = {"bot_commands": COMMANDS}
    workspace.save(update_fields=["settings"])
    me = {"id": 7012345678, "is_bot": True, "first_name": "FLAME", "username": "flame_bot"}
    fake_api.respond("POST", r"/getMe$", body={"ok": True, "result": me})
    fake_api.respond("POST", r"/setWebhook$", body={"ok": True, "result": True})
    fake_api.respond("POST", r"/setMyCommands$", body={"ok": True, "result": True})

    response = admin_client.post(f"/api/integrations/{telegram.pk}/connect")

    assert response.status_code == 200
    assert [call.path.rsplit("/", 1)[1] for call in fake_api.calls] == [
        "getMe",
        "setWebhook",
        "setMyCommands",
    ]


def test_the_bot_page_saves_the_menu(fake_api, client, admin_user, telegram, workspace):
    fake_api.respond("POST", r"/setMyCommands$", body={"ok": True, "result": True})
    client.force_login(admin_user)
    url = f"/settings/integrations/{telegram.pk}/bot-commands/"

    saved = client.post(
        url, {"commands": "pedido - ¿Dónde está mi pedido?\n\nhorario - Horario de la tienda"}
    )
    refused = client.post(url, {"commands": "¡pedido! - nope"})

    assert saved.status_code == 302
    workspace.refresh_from_db()
    assert workspace.settings["bot_commands"] == COMMANDS
    assert refused.status_code == 400
    assert b'data-testid="error-commands"' in refused.content
    assert len(fake_api.calls) == 1


# --- a customer's deletion takes the file with it -------------------------------------------------


def test_a_revoked_image_leaves_only_a_deleted_marker(
    fake_api, client, workspace, settings, django_capture_on_commit_callbacks
):
    settings.META_APP_SECRET = ""
    whatsapp_integration(workspace)
    graph_media(fake_api, png())
    deliver(client, django_capture_on_commit_callbacks, whatsapp_payload("image"))
    assert len(stored_files()) == 1
    image_id = Message.objects.get().external_id

    revoke = whatsapp_payload("revoke").replace(
        b"wamid.HBgNNTIxNTU4NzY1NDMyMRUCABIYFDI3RkFGRDIxMzU1Nzk3NTk4RjA5AA==", image_id.encode()
    )
    deliver(client, django_capture_on_commit_callbacks, revoke)

    message = Message.objects.get()
    attachment = Attachment.objects.get()
    assert (message.is_deleted, message.content, message.conversation.last_message) == (
        True,
        "",
        "",
    )
    assert (attachment.status, attachment.file.name, attachment.caption, attachment.file_name) == (
        "purged",
        "",
        "",
        "",
    )
    assert stored_files() == []
