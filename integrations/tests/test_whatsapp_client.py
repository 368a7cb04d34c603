"""WhatsApp sends, connect and disconnect against a real local HTTP stand-in for the Graph API."""

from __future__ import annotations

import pytest
from django.conf import settings

from conversations.models import Message
from conversations.services import InboundMessage, OutboundDraft
from conversations.services import message_send_agent as send_agent
from integrations import delivery
from integrations.inbound import customer_message_receive as message_receive_inbound
from integrations.models import Integration
from integrations.providers.base import RateLimit
from integrations.providers.whatsapp import client as whatsapp_client
from integrations.tests.test_whatsapp import (
    ACCESS_TOKEN,
    CUSTOMER,
    PHONE_NUMBER_ID,
    TEXT_ID,
    whatsapp_integration,
)

pytestmark = pytest.mark.django_db

MESSAGES_PATH = rf"^/{settings.GRAPH_API_VERSION}/{PHONE_NUMBER_ID}/messages$"
OUT_ID = "wamid.HBgNNTIxNTU4NzY1NDMyMRUCABEYEkY2RDc4OUE0QjNDMkUxMEY5OAA="
ACCEPTED = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": CUSTOMER, "wa_id": CUSTOMER}],
    "messages": [{"id": OUT_ID}],
}
REPLY = "¡Sí! Tenemos la mesa de nogal en tamaño pequeño."


@pytest.fixture
def whatsapp(workspace):
    return whatsapp_integration(workspace)


def inbound_from(integration, external_contact_id: str = CUSTOMER) -> Message:
    result = message_receive_inbound(
        integration=integration,
        inbound=InboundMessage(
            external_contact_id=external_contact_id,
            external_id=TEXT_ID,
            content="¿Tienen la mesa de nogal chica?",
            contact_name="María José Peña",
        ),
    )
    return result.message


def queued_reply(by, integration, *, external_contact_id: str = CUSTOMER, **draft) -> Message:
    """A customer message on the integration, and the agent's queued answer to it."""
    inbound = inbound_from(integration, external_contact_id)
    fields = {"content": REPLY, "reply_to": inbound, **draft}
    return send_agent(by=by, conversation=inbound.conversation, draft=OutboundDraft(**fields))


def deliver(message: Message, attempt: int = 0) -> delivery.Outcome:
    return delivery.message_deliver(message_id=str(message.pk), attempt=attempt)


def graph_error(code: int, message: str, **extra) -> dict:
    return {"error": {"message": message, "type": "OAuthException", "code": code, **extra}}


# --- sending -----------------------------------------------------------------------------------


def test_text_reply_is_sent_with_context_and_stores_the_wamid(fake_api, whatsapp, admin_user):
    fake_api.respond("POST", MESSAGES_PATH, body=ACCEPTED)
    message = queued_reply(admin_user, whatsapp)

    outcome = deliver(message)

    assert outcome == delivery.Outcome(status="sent")
    (call,) = fake_api.calls
    assert call.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert call.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "context": {"message_id": TEXT_ID},
        "type": "text",
        "text": {"preview_url": False, "body": REPLY},
    }
    message.refresh_from_db()
    assert (message.status, message.external_id, message.metadata) == (
        "sent",
        OUT_ID,
        {"wa_id": CUSTOMER},
    )


@pytest.mark.parametrize(
    ("message_type", "content", "media_url", "expected"),
    [
        (
            "image",
            "Así se ve en gris",
            "https://cdn.nogal.example/fotos/mesa-gris.jpg",
            {
                "type": "image",
                "image": {
                    "link": "https://cdn.nogal.example/fotos/mesa-gris.jpg",
                    "caption": "Así se ve en gris",
                },
            },
        ),
        (
            "file",
            "",
            "https://cdn.nogal.example/docs/cotizacion-8841.pdf",
            {
                "type": "document",
                "document": {
                    "link": "https://cdn.nogal.example/docs/cotizacion-8841.pdf",
                    "filename": "cotizacion-8841.pdf",
                },
            },
        ),
        (
            "audio",
            "",
            "https://cdn.nogal.example/audio/indicaciones.ogg",
            {
                "type": "audio",
                "audio": {"link": "https://cdn.nogal.example/audio/indicaciones.ogg"},
            },
        ),
        (
            "video",
            "Armado paso a paso",
            "https://cdn.nogal.example/video/armado.mp4",
            {
                "type": "video",
                "video": {
                    "link": "https://cdn.nogal.example/video/armado.mp4",
                    "caption": "Armado paso a paso",
                },
            },
        ),
    ],
)
def test_media_is_sent_by_link(
    fake_api, whatsapp, admin_user, message_type, content, media_url, expected
):
    fake_api.respond("POST", MESSAGES_PATH, body=ACCEPTED)
    message = queued_reply(
        admin_user, whatsapp, type=message_type, content=content, media_url=media_url, reply_to=None
    )

    assert deliver(message).status == "sent"

    (call,) = fake_api.calls
    assert call.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        **expected,
    }


def test_audio_with_text_fails_without_calling_whatsapp(fake_api, whatsapp, admin_user):
    message = queued_reply(
        admin_user, whatsapp, type="audio", media_url="https://cdn.nogal.example/a.ogg"
    )

    assert deliver(message).status == "failed"

    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", "caption_unsupported")
    assert fake_api.calls == []


def test_customer_known_only_by_bsuid_is_addressed_as_recipient(fake_api, whatsapp, admin_user):
    fake_api.respond(
        "POST",
        MESSAGES_PATH,
        body={"messaging_product": "whatsapp", "contacts": [], "messages": [{"id": OUT_ID}]},
    )
    message = queued_reply(admin_user, whatsapp, external_contact_id="MX.5550001112223334")

    assert deliver(message).status == "sent"

    (call,) = fake_api.calls
    assert call.body["recipient"] == "MX.5550001112223334"
    assert "to" not in call.body
    message.refresh_from_db()
    assert (message.external_id, message.metadata) == (OUT_ID, {})


def test_rate_limited_send_waits_for_retry_after_and_stays_queued(fake_api, whatsapp, admin_user):
    fake_api.respond(
        "POST",
        MESSAGES_PATH,
        status=429,
        body=graph_error(130429, "(#130429) Rate limit hit"),
        headers={"Retry-After": "7"},
    )
    message = queued_reply(admin_user, whatsapp)

    outcome = deliver(message)

    assert outcome == delivery.Outcome(status="retrying", retry_in=7.0, next_attempt=1)
    message.refresh_from_db()
    assert (message.status, message.external_id) == ("queued", None)


def test_throughput_error_as_http_400_is_retried_with_backoff(fake_api, whatsapp, admin_user):
    fake_api.respond(
        "POST", MESSAGES_PATH, status=400, body=graph_error(131056, "(#131056) Pair rate limit")
    )
    message = queued_reply(admin_user, whatsapp)

    outcome = deliver(message, attempt=1)

    assert (outcome.status, outcome.next_attempt) == ("retrying", 2)
    assert 2.0 <= outcome.retry_in <= 6.0  # 2^(attempt+1) with ±50 % jitter
    message.refresh_from_db()
    assert message.status == "queued"


def test_server_error_is_retried_with_backoff_then_fails_when_attempts_run_out(
    fake_api, whatsapp, admin_user
):
    fake_api.respond(
        "POST", MESSAGES_PATH, status=503, body=graph_error(2, "Service temporarily unavailable")
    )
    message = queued_reply(admin_user, whatsapp)

    first = deliver(message)
    message.refresh_from_db()
    assert (first.status, message.status) == ("retrying", "queued")
    assert 1.0 <= first.retry_in <= 3.0

    last = deliver(message, attempt=settings.DELIVERY_MAX_ATTEMPTS - 1)

    message.refresh_from_db()
    assert last.status == "failed"
    assert (message.status, message.error_code, message.error_message) == (
        "failed",
        "2",
        "Service temporarily unavailable",
    )
    assert len(fake_api.calls) == 2


def test_read_timeout_fails_as_unconfirmed_after_one_request(fake_api, whatsapp, admin_user):
    fake_api.respond(
        "POST", MESSAGES_PATH, body=ACCEPTED, delay=settings.PROVIDER_READ_TIMEOUT + 0.5
    )
    message = queued_reply(admin_user, whatsapp)

    outcome = deliver(message)

    assert outcome.status == "failed"
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", "timeout_unconfirmed")
    assert len(fake_api.calls) == 1


@pytest.mark.parametrize(
    ("status", "error", "code", "reason"),
    [
        (
            401,
            graph_error(
                190, "Error validating access token: Session has expired", error_subcode=463
            ),
            "190",
            "The access token is invalid or expired. Reconnect the channel.",
        ),
        (
            400,
            graph_error(131047, "Re-engagement message"),
            "131047",
            "More than 24 hours since the customer last wrote: only a template can be sent.",
        ),
        (
            400,
            graph_error(131026, "Message undeliverable"),
            "131026",
            "The message could not be delivered (the number may not be on WhatsApp).",
        ),
        (
            403,
            graph_error(10, "(#10) Application does not have permission for this action"),
            "10",
            "The app lacks permission, or the 24-hour reply window has closed.",
        ),
        (
            400,
            graph_error(100, "(#100) Invalid parameter", error_user_msg="El número no es válido."),
            "100",
            "El número no es válido.",
        ),
    ],
)
def test_permanent_errors_fail_with_a_readable_reason(
    fake_api, whatsapp, admin_user, status, error, code, reason
):
    fake_api.respond("POST", MESSAGES_PATH, status=status, body=error)
    message = queued_reply(admin_user, whatsapp)

    assert deliver(message).status == "failed"

    message.refresh_from_db()
    assert (message.status, message.error_code, message.error_message) == ("failed", code, reason)
    assert len(fake_api.calls) == 1


def test_unreachable_graph_api_is_retried(settings, whatsapp, admin_user):
    settings.GRAPH_API_BASE_URL = "http://127.0.0.1:9"  # discard port: connection refused
    message = queued_reply(admin_user, whatsapp)

    outcome = deliver(message)

    assert outcome.status == "retrying"
    message.refresh_from_db()
    assert message.status == "queued"


def test_success_without_a_message_id_is_not_resent(fake_api, whatsapp, admin_user):
    fake_api.respond("POST", MESSAGES_PATH, body={"messaging_product": "whatsapp"})
    message = queued_reply(admin_user, whatsapp)

    assert deliver(message).status == "failed"

    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", "no_message_id")


def test_rate_limits_are_80_per_second_per_phone_number(whatsapp):
    assert whatsapp_client.rate_limits(integration=whatsapp, message=None) == [
        RateLimit(f"whatsapp:{PHONE_NUMBER_ID}", 80, 1)
    ]


def test_agent_reply_through_the_api_is_delivered(
    fake_api, whatsapp, admin_client, django_capture_on_commit_callbacks
):
    fake_api.respond("POST", MESSAGES_PATH, body=ACCEPTED)
    conversation = inbound_from(whatsapp).conversation

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/api/conversations/{conversation.pk}/messages", {"content": REPLY}, format="json"
        )

    assert (response.status_code, response.json()["status"]) == (201, "queued")
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.status, message.external_id) == ("sent", OUT_ID)
    (call,) = fake_api.calls
    assert (call.body["to"], call.body["text"]) == (CUSTOMER, {"preview_url": False, "body": REPLY})


# --- connect and disconnect --------------------------------------------------------------------


NUMBER_PATH = rf"^/{settings.GRAPH_API_VERSION}/{PHONE_NUMBER_ID}$"


def test_connect_checks_the_number_and_activates(fake_api, admin_client, workspace):
    integration = whatsapp_integration(workspace, status=Integration.Status.INACTIVE)
    fake_api.respond(
        "GET",
        NUMBER_PATH,
        body={
            "verified_name": "Mueblería Nogal",
            "display_phone_number": "+52 55 1234 0000",
            "id": PHONE_NUMBER_ID,
        },
    )

    response = admin_client.post(f"/api/integrations/{integration.pk}/connect")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["last_error"]) == ("active", "")
    (call,) = fake_api.calls
    assert call.query == "fields=display_phone_number%2Cverified_name"
    assert call.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    integration.refresh_from_db()
    assert (integration.status, integration.external_account_id) == ("active", PHONE_NUMBER_ID)


def test_connect_refused_reports_the_platform_message(fake_api, admin_client, workspace):
    integration = whatsapp_integration(workspace, status=Integration.Status.INACTIVE)
    platform_message = (
        "Unsupported get request. Object with ID '113948276501234' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation."
    )
    fake_api.respond(
        "GET", NUMBER_PATH, status=400, body=graph_error(100, platform_message, error_subcode=33)
    )

    response = admin_client.post(f"/api/integrations/{integration.pk}/connect")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "connect_failed"
    assert response.json()["error"]["details"] == {"provider_message": platform_message}
    integration.refresh_from_db()
    assert (integration.status, integration.last_error) == ("error", platform_message)


def test_connect_with_an_expired_token_says_so(fake_api, admin_client, workspace):
    integration = whatsapp_integration(workspace)
    fake_api.respond(
        "GET", NUMBER_PATH, status=401, body=graph_error(190, "Error validating access token")
    )

    response = admin_client.post(f"/api/integrations/{integration.pk}/connect")

    assert response.status_code == 409
    expected = "The access token is invalid or expired. Reconnect the channel."
    assert response.json()["error"]["details"] == {"provider_message": expected}
    integration.refresh_from_db()
    assert (integration.status, integration.last_error) == ("error", expected)


def test_disconnect_deactivates_without_calling_meta(fake_api, admin_client, workspace):
    integration = whatsapp_integration(workspace)

    response = admin_client.post(f"/api/integrations/{integration.pk}/disconnect")

    assert (response.status_code, response.json()["status"]) == (200, "inactive")
    assert fake_api.calls == []
