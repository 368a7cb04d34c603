"""What Messenger and Instagram share, run for both platforms: webhook authenticity (one Meta
app secret, HMAC over the raw bytes), the Graph errors a send can meet, connect and disconnect.

The two platforms share the view, the signature check and the Send API client, but each has
its own URL, integrations, credentials and signing secrets.
"""

from __future__ import annotations

import json

import pytest

from conversations.models import Contact, Conversation, Message
from integrations import delivery
from integrations.models import Integration, WebhookEvent
from integrations.tests.conftest import meta_signature
from integrations.tests.test_messenger_support import (
    APP_SECRET,
    CHANNELS,
    VERIFY_TOKEN,
    Channel,
    agent_message,
    channel_integration,
    customer_conversation,
    event_statuses,
    inbox_state,
    payload,
    post_signed,
    sent_agent_message,
    webhook_poster,
)

pytestmark = pytest.mark.django_db

SEND_PATH = r"^/v[\d.]+/me/messages$"


BAD_TOKEN = "The access token is invalid or expired. Reconnect the channel."


@pytest.fixture(params=sorted(CHANNELS))
def channel(request) -> Channel:
    return CHANNELS[request.param]


@pytest.fixture
def integration(workspace, channel) -> Integration:
    return channel_integration(workspace, channel)


@pytest.fixture
def platform(channel, integration) -> str:
    return channel.platform


@pytest.fixture
def body(channel, integration) -> bytes:
    return payload(channel.folder, "text")


@pytest.fixture
def conversation(channel, integration):
    return customer_conversation(integration, channel.customer_id)


@pytest.fixture
def post(client, channel, integration, django_capture_on_commit_callbacks):
    return webhook_poster(client, channel, django_capture_on_commit_callbacks)


@pytest.fixture
def our_message(post, channel, admin_user):
    """The customer wrote (text.json) and we answered; our answer has the id ``out_mid``."""
    post("text")
    return sent_agent_message(Conversation.objects.get(), admin_user, channel.out_mid)


def first_event(channel: Channel, name: str) -> dict:
    """The payload file's first event, decoded: what the test expects to see stored."""
    entry = json.loads(payload(channel.folder, name))["entry"][0]
    return (entry.get("messaging") or entry.get("standby"))[0]


def graph_error(code: int, subcode: int | None = None, message: str = "Graph error") -> dict:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbC"}
    return {"error": {**error, **({"error_subcode": subcode} if subcode else {})}}


# --- webhook authenticity ------------------------------------------------------------------------


def nothing_stored() -> bool:
    return not (
        WebhookEvent.objects.exists() or Message.objects.exists() or Contact.objects.exists()
    )


def test_forged_signature_is_403_and_stores_nothing(client, platform, body):
    response = post_signed(client, platform, body, secret="not-the-app-secret")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "signature_invalid"
    assert nothing_stored()


def test_reserialized_body_with_the_original_signature_is_403(client, platform, body):
    reserialized = json.dumps(json.loads(body), ensure_ascii=False).encode()
    assert reserialized != body  # Meta's \\uXXXX and \\/ escapes are part of what is signed

    response = client.post(
        f"/api/webhooks/{platform}",
        data=reserialized,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=meta_signature(body, APP_SECRET),
    )

    assert response.status_code == 403
    assert nothing_stored()


def test_missing_signature_header_is_401(client, platform, body):
    response = client.post(f"/api/webhooks/{platform}", data=body, content_type="application/json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "signature_missing"
    assert nothing_stored()


def test_handshake_with_the_wrong_verify_token_is_403(client, platform):
    response = client.get(
        f"/api/webhooks/{platform}",
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1158201444"},
    )

    assert response.status_code == 403


def test_handshake_with_the_right_verify_token_echoes_the_challenge(client, platform):
    response = client.get(
        f"/api/webhooks/{platform}",
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )

    assert response.status_code == 200
    assert (response.content, response["Content-Type"]) == (b"1158201444", "text/plain")


def test_body_over_3_mb_is_413(client, platform, body):
    big = body[:-1] + b', "padding": "' + b"x" * (3 * 1024 * 1024) + b'"}'

    response = post_signed(client, platform, big)

    assert response.status_code == 413
    assert nothing_stored()


def test_signed_body_of_2_9_mb_is_accepted(
    client, platform, body, django_capture_on_commit_callbacks
):
    padding = b"x" * (int(2.9 * 1024 * 1024) - len(body))
    big = body[:-1] + b', "padding": "' + padding + b'"}'

    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(client, platform, big)

    assert response.status_code == 200
    assert WebhookEvent.objects.get().status == "processed"
    assert Message.objects.count() == 1


def test_malformed_json_with_a_valid_signature_is_recorded_failed(
    client, platform, django_capture_on_commit_callbacks
):
    before = inbox_state()

    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(client, platform, b'{"object": "page", "entry": [')

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.status, event.error.startswith("Malformed body")) == ("failed", True)
    assert inbox_state() == before


# --- inbound events both platforms send alike ---------------------------------------------------


def test_reply_points_at_the_message_it_quotes(post, channel, our_message):
    post("reply")

    reply = Message.objects.get(reply_to=our_message)
    assert (reply.sender, reply.content) == (
        "user",
        first_event(channel, "reply")["message"]["text"],
    )


def test_reaction_is_stored_on_the_message_and_removed_by_unreact(post, channel, our_message):
    post("reaction_react")
    our_message.refresh_from_db()
    assert our_message.metadata["reactions"] == {channel.customer_id: "\u2764\ufe0f"}

    post("reaction_unreact")
    our_message.refresh_from_db()
    assert our_message.metadata["reactions"] == {}
    assert Message.objects.count() == 2  # reactions are not messages


def test_edit_replaces_the_text_and_keeps_the_previous_one(post, channel):
    post("text")
    post("message_edit")

    message = Message.objects.get()
    original = first_event(channel, "text")["message"]["text"]
    assert message.content == first_event(channel, "message_edit")["message_edit"]["text"]
    assert (message.is_edited, message.metadata["edits"]) == (True, [original])


def test_echo_of_our_own_send_is_not_stored_again(post, our_message):
    before = inbox_state()

    post("echo_ours", message_id=str(our_message.pk))

    assert inbox_state() == before


def test_echo_sent_from_elsewhere_is_stored_once_as_an_agent_message(post, channel):
    post("text")
    post("echo_elsewhere")

    echoed = first_event(channel, "echo_elsewhere")["message"]
    echo = Message.objects.get(external_id=echoed["mid"])
    assert (echo.sender, echo.status, echo.content) == ("agent", "sent", echoed["text"])
    app_id = str(echoed["app_id"]) if "app_id" in echoed else None  # Messenger's only
    assert (echo.metadata["origin"], echo.metadata.get("app_id")) == ("echo", app_id)
    conversation = Conversation.objects.get()
    assert (conversation.message_count, conversation.unread_count) == (2, 0)


def test_batch_of_entries_and_standby_is_stored_entry_by_entry(post, channel):
    state = post("batch")

    entries = json.loads(payload(channel.folder, "batch"))["entry"]
    events = [e for entry in entries for e in entry.get("messaging", []) + entry.get("standby", [])]
    mids = [event["message"]["mid"] for event in events if "message" in event]
    assert [row[0] for row in state["messages"]] == mids  # the optin/referral event is ignored
    assert len(mids) == 3
    assert state["identities"] == sorted([channel.customer_id, channel.second_customer_id])
    by_contact = {row[0]: row[3] for row in state["conversations"]}
    assert by_contact == {channel.customer_id: 2, channel.second_customer_id: 1}
    assert event_statuses() == ["processed", "processed"]


def test_entry_for_an_unknown_account_is_ignored(post):
    state = post("unknown_account")

    assert (state["messages"], state["contacts"]) == ([], [])
    assert event_statuses() == ["ignored", "ignored"]


# --- sending -------------------------------------------------------------------------------------


def test_agent_reply_through_the_api_is_sent(
    fake_api, admin_client, channel, conversation, django_capture_on_commit_callbacks
):
    fake_api.respond("POST", SEND_PATH, body={"recipient_id": "x", "message_id": "mid.out.1"})

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/api/conversations/{conversation.pk}/messages",
            {"content": "Tarda 3 días hábiles 🚚"},
            format="json",
        )

    assert response.status_code == 201
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.status, message.external_id) == ("sent", "mid.out.1")
    (call,) = fake_api.calls
    assert (call.path, call.headers["Authorization"]) == (
        "/v21.0/me/messages",
        f"Bearer {channel.token}",
    )
    assert (call.body["recipient"], call.body["message"]["text"]) == (
        {"id": channel.customer_id},
        "Tarda 3 días hábiles 🚚",
    )


def test_429_is_retried_after_the_platform_says(fake_api, conversation, admin_user):
    too_many = graph_error(4, message="Application request limit reached")
    fake_api.respond("POST", SEND_PATH, status=429, body=too_many, headers={"Retry-After": "7"})
    message = agent_message(conversation, admin_user)

    outcome = delivery.message_deliver(message_id=str(message.pk))

    assert outcome == delivery.Outcome(status="retrying", retry_in=7.0, next_attempt=1)
    message.refresh_from_db()
    assert (message.status, message.external_id) == ("queued", None)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, graph_error(613, message="Calls to this api have exceeded the rate limit.")),
        (400, graph_error(4, message="Application request limit reached")),
        (500, graph_error(2, message="Service temporarily unavailable")),
        (503, {}),
    ],
)
def test_throttling_and_server_errors_are_retried_with_backoff(
    fake_api, conversation, admin_user, status, error
):
    fake_api.respond("POST", SEND_PATH, status=status, body=error)
    message = agent_message(conversation, admin_user)

    outcome = delivery.message_deliver(message_id=str(message.pk), attempt=2)

    assert (outcome.status, outcome.next_attempt) == ("retrying", 3)
    assert 4.0 <= outcome.retry_in <= 12.0  # 2^3 s with ±50 % jitter
    message.refresh_from_db()
    assert message.status == "queued"


def test_read_timeout_fails_unconfirmed_after_exactly_one_request(
    fake_api, conversation, admin_user
):
    fake_api.respond("POST", SEND_PATH, body={"message_id": "late"}, delay=1.5)
    message = agent_message(conversation, admin_user)

    outcome = delivery.message_deliver(message_id=str(message.pk))

    assert outcome == delivery.Outcome(status="failed")
    message.refresh_from_db()
    assert (message.status, message.error_code, message.external_id) == (
        "failed",
        "timeout_unconfirmed",
        None,
    )
    assert len(fake_api.calls) == 1


def deliver_failing(fake_api, message, status: int, error: dict) -> Message:
    fake_api.respond("POST", SEND_PATH, status=status, body=error)

    outcome = delivery.message_deliver(message_id=str(message.pk))

    assert outcome == delivery.Outcome(status="failed")
    assert len(fake_api.calls) == 1
    message.refresh_from_db()
    return message


def test_closed_reply_window_fails_with_a_readable_reason(
    fake_api, channel, conversation, admin_user
):
    error = graph_error(10, channel.window_subcode, "(#10) Sent outside of allowed window.")

    failed = deliver_failing(fake_api, agent_message(conversation, admin_user), 400, error)

    assert (failed.status, failed.error_code, failed.error_message) == (
        "failed",
        "10",
        "More than 24 hours since the customer last wrote: the reply window has closed.",
    )


@pytest.mark.parametrize(
    ("status", "error", "code", "reason"),
    [
        (401, graph_error(190, 463, "Session has expired"), "190", BAD_TOKEN),
        (
            400,
            graph_error(551, 1545041, "(#551) This person isn't available right now."),
            "551",
            "This person isn't available right now.",
        ),
        (
            400,
            graph_error(100, 2018001, "(#100) No matching user found"),
            "100",
            "(#100) No matching user found",
        ),
    ],
)
def test_permanent_errors_fail_with_a_readable_reason(
    fake_api, conversation, admin_user, status, error, code, reason
):
    failed = deliver_failing(fake_api, agent_message(conversation, admin_user), status, error)

    assert (failed.status, failed.error_code, failed.error_message) == ("failed", code, reason)


# --- connect and disconnect ----------------------------------------------------------------------


def test_connect_checks_the_account_with_its_token(fake_api, admin_client, channel, integration):
    Integration.objects.filter(pk=integration.pk).update(status="inactive")
    # Instagram-Login tokens answer with an app-scoped id: the configured one stays.
    profile = {"name": "Tienda Olivo", "username": "tienda.olivo", "id": "9876543210"}
    fake_api.respond("GET", rf"^/v[\d.]+/{channel.account_id}$", body=profile)

    response = admin_client.post(f"/api/integrations/{integration.pk}/connect")

    assert response.status_code == 200
    integration.refresh_from_db()
    assert (integration.status, integration.external_account_id, integration.last_error) == (
        "active",
        channel.account_id,
        "",
    )
    (call,) = fake_api.calls
    assert (call.query, call.headers["Authorization"]) == (
        channel.profile_query,
        f"Bearer {channel.token}",
    )


@pytest.mark.parametrize(
    ("error", "provider_message"),
    [
        (graph_error(190, 460, "Error validating access token"), BAD_TOKEN),
        (
            graph_error(100, 33, "Unsupported get request. Object with ID '1' does not exist"),
            "Unsupported get request. Object with ID '1' does not exist",
        ),
    ],
)
def test_connect_refused_is_409_with_the_platform_message(
    fake_api, admin_client, channel, integration, error, provider_message
):
    fake_api.respond("GET", rf"^/v[\d.]+/{channel.account_id}$", status=400, body=error)

    response = admin_client.post(f"/api/integrations/{integration.pk}/connect")

    assert response.status_code == 409
    body = response.json()["error"]
    assert (body["code"], body["details"]["provider_message"]) == (
        "connect_failed",
        provider_message,
    )
    integration.refresh_from_db()
    assert (integration.status, integration.last_error) == ("error", provider_message)


def test_disconnect_needs_no_call_to_meta(fake_api, admin_client, integration):
    response = admin_client.post(f"/api/integrations/{integration.pk}/disconnect")

    assert response.status_code == 200
    integration.refresh_from_db()
    assert (integration.status, integration.last_error) == ("inactive", "")
    assert fake_api.calls == []
