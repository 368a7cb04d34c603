"""WhatsApp message templates against a local Graph API: synced (periodically, on demand, on
a review webhook), listed (API, settings page, admin), filled in and sent — the way to write
after the 24-hour window and to start a conversation."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import timezone

from conversations.models import ContactIdentity, Conversation, Message
from conversations.tests.factories import ConversationFactory
from integrations import templates
from integrations.models import Integration, MessageTemplate
from integrations.tests.conftest import meta_signature
from integrations.tests.factories import IntegrationFactory
from integrations.tests.test_whatsapp import (
    ACCESS_TOKEN,
    APP_SECRET,
    PHONE_NUMBER_ID,
    payload,
    whatsapp_integration,
)
from integrations.tests.test_whatsapp_client import ACCEPTED, CUSTOMER, MESSAGES_PATH, OUT_ID

pytestmark = pytest.mark.django_db

WABA = "104729835612345"  # the business account of the payload files
LIST_PATH = rf"^/{settings.GRAPH_API_VERSION}/{WABA}/message_templates$"
ORDER = {
    "name": "confirmacion_pedido",
    "language": "es_MX",
    "status": "APPROVED",
    "category": "UTILITY",
    "parameter_format": "POSITIONAL",
    "id": "1180000000000042",
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Pedido {{1}}"},
        {"type": "BODY", "text": "Hola {{1}}, tu pedido {{2}} sale hoy. Llega el {{3}}."},
        {"type": "FOOTER", "text": "Mueblería Nogal"},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Gracias"}]},
    ],
}
REMINDER = {
    "name": "appointment_reminder",
    "language": "en_US",
    "status": "APPROVED",
    "category": "UTILITY",
    "parameter_format": "NAMED",
    "id": "1180000000000043",
    "components": [{"type": "BODY", "text": "Hi {{first_name}}, see you on {{date}}."}],
}
PROMO = {
    "name": "promo_verano",
    "language": "es_MX",
    "status": "PENDING",
    "category": "MARKETING",
    "id": "1180000000000044",
    "components": [
        {"type": "HEADER", "format": "IMAGE"},
        {"type": "BODY", "text": "¡Oferta de verano! {{1}}"},
    ],
}


@pytest.fixture
def whatsapp(workspace):
    integration = whatsapp_integration(workspace)
    integration.credentials = {**integration.credentials, "business_account_id": WABA}
    integration.save()
    return integration


def account_lists(fake_api, *pages: list[dict]) -> None:
    """The business account's templates, page by page (Graph's cursor paging): each page is
    answered once, in order, and the last one from then on."""
    last = len(pages) - 1
    for number, items in reversed(list(enumerate(pages))):
        paging = {"cursors": {"before": f"B{number}", "after": f"A{number}"}}
        if number < last:
            paging["next"] = f"https://graph.facebook.com/next-{number}"
        body = {"data": items, "paging": paging}
        fake_api.respond("GET", LIST_PATH, body=body, times=None if number == last else 1)


def rows() -> list[tuple]:
    return list(
        MessageTemplate.objects.order_by("name").values_list(
            "name", "language", "status", "category", "parameter_format", "external_id"
        )
    )


def synced(fake_api, whatsapp) -> None:
    account_lists(fake_api, [ORDER, REMINDER, PROMO])
    templates.templates_sync(integration=whatsapp)
    fake_api.calls.clear()


# --- syncing -------------------------------------------------------------------------------------


def test_an_admin_syncs_every_page_of_the_account(fake_api, admin_client, whatsapp):
    account_lists(fake_api, [ORDER, REMINDER], [PROMO])

    response = admin_client.post(f"/api/integrations/{whatsapp.pk}/templates/sync")

    assert (response.status_code, response.json()) == (200, {"synced": 3})
    assert rows() == [
        ("appointment_reminder", "en_US", "approved", "utility", "named", "1180000000000043"),
        ("confirmacion_pedido", "es_MX", "approved", "utility", "positional", "1180000000000042"),
        ("promo_verano", "es_MX", "pending", "marketing", "positional", "1180000000000044"),
    ]
    first, second = fake_api.calls
    assert first.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert first.query == (
        "fields=id%2Cname%2Clanguage%2Cstatus%2Ccategory%2Ccomponents%2Cparameter_format"
        "%2Crejected_reason&limit=100"
    )
    assert second.query.endswith("&after=A0")


def test_a_template_deleted_at_meta_goes_here_too(fake_api, whatsapp):
    synced(fake_api, whatsapp)
    account_lists(fake_api, [ORDER])

    assert templates.templates_sync(integration=whatsapp) == 1

    assert [row[0] for row in rows()] == ["confirmacion_pedido"]


def test_without_the_business_account_id_the_sync_says_what_is_missing(
    fake_api, admin_client, workspace
):
    credentials = {"access_token": ACCESS_TOKEN, "phone_number_id": PHONE_NUMBER_ID}
    channel = whatsapp_integration(workspace, credentials=credentials)

    response = admin_client.post(f"/api/integrations/{channel.pk}/templates/sync")

    assert response.status_code == 409
    assert response.json()["error"]["details"] == {
        "provider_message": "Add the WhatsApp Business Account ID to this channel to use templates."
    }
    assert fake_api.calls == []


def test_a_graph_refusal_leaves_the_templates_as_they_were(fake_api, admin_client, whatsapp):
    synced(fake_api, whatsapp)
    error = {"error": {"message": "Invalid OAuth access token.", "code": 190}}
    fake_api.respond("GET", LIST_PATH, status=401, body=error)

    response = admin_client.post(f"/api/integrations/{whatsapp.pk}/templates/sync")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "templates_sync_failed"
    assert len(rows()) == 3


def test_agents_and_other_workspaces_cannot_sync(fake_api, agent_client, outsider_client, whatsapp):
    assert agent_client.post(f"/api/integrations/{whatsapp.pk}/templates/sync").status_code == 403
    assert (
        outsider_client.post(f"/api/integrations/{whatsapp.pk}/templates/sync").status_code == 404
    )
    assert fake_api.calls == []


def test_the_periodic_task_syncs_every_connected_whatsapp_channel(fake_api, whatsapp, workspace):
    IntegrationFactory(workspace=workspace, platform="telegram")
    account_lists(fake_api, [ORDER])

    queued = templates.templates_sync_schedule()

    assert queued == 1
    assert rows()[0][0] == "confirmacion_pedido"
    assert settings.CELERY_BEAT_SCHEDULE["sync-message-templates"]["schedule"] == 6 * 3600.0


def test_the_admin_lists_templates_with_their_parts(fake_api, admin_client, whatsapp):
    synced(fake_api, whatsapp)

    response = admin_client.get(f"/api/integrations/{whatsapp.pk}/templates")

    order = next(t for t in response.json() if t["name"] == "confirmacion_pedido")
    assert order["parts"] == {
        "header": {"format": "TEXT", "text": "Pedido {{1}}", "parameters": ["1"]},
        "body": {
            "format": "TEXT",
            "text": "Hola {{1}}, tu pedido {{2}} sale hoy. Llega el {{3}}.",
            "parameters": ["1", "2", "3"],
        },
        "footer": "Mueblería Nogal",
    }


# --- status webhooks -----------------------------------------------------------------------------


def post_review(client, capture, body: bytes):
    with capture(execute=True):
        response = client.post(
            "/api/webhooks/whatsapp",
            data=body,
            content_type="application/json",
            HTTP_X_HUB_SIGNATURE_256=meta_signature(body, APP_SECRET),
        )
    assert response.status_code == 200
    return response


def test_a_review_webhook_keeps_the_status_current_on_every_number_of_the_account(
    fake_api, client, whatsapp, workspace, settings, django_capture_on_commit_callbacks
):
    settings.META_APP_SECRET = ""
    second_number = IntegrationFactory(
        workspace=workspace,
        platform="whatsapp",
        external_account_id="113948276509999",
        credentials={**whatsapp.credentials, "phone_number_id": "113948276509999"},
    )
    pending = {**ORDER, "status": "PENDING"}
    account_lists(fake_api, [pending])
    templates.templates_sync(integration=whatsapp)
    templates.templates_sync(integration=second_number)
    fake_api.calls.clear()

    post_review(client, django_capture_on_commit_callbacks, payload("template_status"))
    post_review(client, django_capture_on_commit_callbacks, payload("template_status"))

    assert list(MessageTemplate.objects.values_list("status", flat=True)) == [
        "approved",
        "approved",
    ]
    assert fake_api.calls == []


def test_a_review_of_a_template_we_do_not_have_fetches_the_templates(
    fake_api, client, whatsapp, settings, django_capture_on_commit_callbacks
):
    settings.META_APP_SECRET = ""
    account_lists(fake_api, [ORDER])

    post_review(client, django_capture_on_commit_callbacks, payload("template_status"))

    assert rows()[0][:3] == ("confirmacion_pedido", "es_MX", "approved")


# --- sending -------------------------------------------------------------------------------------


def conversation_on(whatsapp, *, hours_ago: float | None):
    wrote = timezone.now() - timedelta(hours=hours_ago) if hours_ago is not None else None
    conversation = ConversationFactory(
        workspace=whatsapp.workspace,
        integration=whatsapp,
        platform="whatsapp",
        last_customer_message_at=wrote,
    )
    ContactIdentity.objects.create(
        contact=conversation.contact, integration=whatsapp, external_id=CUSTOMER
    )
    return conversation


ORDER_SENT = {
    "name": "confirmacion_pedido",
    "language": "es_MX",
    "header": ["#8841"],
    "body": ["María", "#8841", "viernes"],
}


def test_a_template_reopens_a_conversation_after_the_window(
    fake_api, admin_client, whatsapp, django_capture_on_commit_callbacks
):
    synced(fake_api, whatsapp)
    fake_api.respond("POST", MESSAGES_PATH, body=ACCEPTED)
    conversation = conversation_on(whatsapp, hours_ago=30)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/api/conversations/{conversation.pk}/messages",
            {"template": ORDER_SENT},
            format="json",
        )

    assert response.status_code == 201, response.content
    message = Message.objects.get()
    assert (message.type, message.content, message.status, message.external_id) == (
        "template",
        "Pedido #8841\n\nHola María, tu pedido #8841 sale hoy. Llega el viernes.\n\n"
        "Mueblería Nogal",
        "sent",
        OUT_ID,
    )
    (call,) = fake_api.calls
    assert call.path == f"/{settings.GRAPH_API_VERSION}/{PHONE_NUMBER_ID}/messages"
    assert call.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "template",
        "template": {
            "name": "confirmacion_pedido",
            "language": {"code": "es_MX"},
            "components": [
                {"type": "header", "parameters": [{"type": "text", "text": "#8841"}]},
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "María"},
                        {"type": "text", "text": "#8841"},
                        {"type": "text", "text": "viernes"},
                    ],
                },
            ],
        },
    }


def test_named_parameters_carry_their_names(
    fake_api, admin_client, whatsapp, django_capture_on_commit_callbacks
):
    synced(fake_api, whatsapp)
    fake_api.respond("POST", MESSAGES_PATH, body=ACCEPTED)
    conversation = conversation_on(whatsapp, hours_ago=48)
    sent = {"name": "appointment_reminder", "language": "en_US", "body": ["Ana", "Friday"]}

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            f"/api/conversations/{conversation.pk}/messages", {"template": sent}, format="json"
        )

    (call,) = fake_api.calls
    assert call.body["template"]["components"] == [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "Ana", "parameter_name": "first_name"},
                {"type": "text", "text": "Friday", "parameter_name": "date"},
            ],
        }
    ]
    assert Message.objects.get().content == "Hi Ana, see you on Friday."


@pytest.mark.parametrize(
    ("template", "refusal"),
    [
        (
            {**ORDER_SENT, "body": ["María"]},
            "The body needs 3 parameter(s); 1 given.",
        ),
        (
            {"name": "appointment_reminder", "language": "en_US", "header": ["x"], "body": ["a"]},
            "The header needs 0 parameter(s); 1 given.",
        ),
        (
            {"name": "promo_verano", "language": "es_MX", "header": ["https://x"], "body": ["1"]},
            "This template is not approved (In review): it cannot be sent.",
        ),
        (
            {**ORDER_SENT, "language": "en_US"},
            "This channel has no template with this name and language.",
        ),
    ],
)
def test_a_template_that_does_not_fit_is_refused_and_nothing_is_stored(
    fake_api, admin_client, whatsapp, template, refusal
):
    synced(fake_api, whatsapp)
    conversation = conversation_on(whatsapp, hours_ago=30)

    response = admin_client.post(
        f"/api/conversations/{conversation.pk}/messages", {"template": template}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"template": [refusal]}
    assert Message.objects.count() == 0


def test_a_template_with_text_is_refused(fake_api, admin_client, whatsapp):
    conversation = conversation_on(whatsapp, hours_ago=1)

    response = admin_client.post(
        f"/api/conversations/{conversation.pk}/messages",
        {"template": ORDER_SENT, "content": "y además"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"template": ["Send a template on its own."]}


def test_a_business_starts_a_whatsapp_conversation_with_a_template(
    fake_api, admin_client, whatsapp, django_capture_on_commit_callbacks
):
    synced(fake_api, whatsapp)
    fake_api.respond("POST", MESSAGES_PATH, body=ACCEPTED)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/api/conversations",
            {
                "contact_name": "María José Peña",
                "contact_phone": "+52 1 55 8765 4321",
                "platform": "whatsapp",
                "integration_id": str(whatsapp.pk),
                "template": ORDER_SENT,
            },
            format="json",
        )

    assert response.status_code == 201, response.content
    conversation = Conversation.objects.get()
    message = conversation.messages.get()
    assert (message.sender, message.type, message.status) == ("agent", "template", "sent")
    (call,) = fake_api.calls
    assert (call.body["to"], call.body["type"]) == ("5215587654321", "template")
    # The customer has not answered yet: the window stays closed until they do.
    assert response.json()["messaging_window"]["open"] is False
    assert response.json()["message_count"] == 1


def test_starting_with_a_template_needs_a_channel(admin_client):
    response = admin_client.post(
        "/api/conversations",
        {"contact_name": "Ana", "platform": "whatsapp", "template": ORDER_SENT},
        format="json",
    )

    assert response.status_code == 400
    assert Conversation.objects.count() == 0


def test_agents_see_the_approved_templates_of_their_conversation(
    fake_api, agent_client, agent_user, outsider_client, whatsapp
):
    synced(fake_api, whatsapp)
    conversation = conversation_on(whatsapp, hours_ago=30)
    Conversation.objects.filter(pk=conversation.pk).update(assigned_agent=agent_user)

    response = agent_client.get(f"/api/conversations/{conversation.pk}/templates")

    assert response.status_code == 200
    assert [(t["name"], t["language"]) for t in response.json()] == [
        ("appointment_reminder", "en_US"),
        ("confirmacion_pedido", "es_MX"),
    ]
    assert outsider_client.get(f"/api/conversations/{conversation.pk}/templates").status_code == 404


# --- settings page and admin ---------------------------------------------------------------------


def test_the_templates_page_lists_them_and_syncs_on_demand(fake_api, client, admin_user, whatsapp):
    synced(fake_api, whatsapp)
    client.force_login(admin_user)
    account_lists(fake_api, [ORDER])

    listed = client.get(f"/settings/integrations/{whatsapp.pk}/templates/")
    synced_now = client.post(f"/settings/integrations/{whatsapp.pk}/templates/sync/", follow=True)

    assert listed.status_code == 200
    assert listed.content.count(b'data-testid="template-row"') == 3
    assert synced_now.status_code == 200
    assert synced_now.content.count(b'data-testid="template-row"') == 1
    assert b"Plantillas sincronizadas: 1." in synced_now.content  # the workspace language


def test_the_templates_page_exists_only_for_whatsapp_and_admins(
    client, admin_user, agent_user, outsider, workspace
):
    telegram = IntegrationFactory(workspace=workspace, platform="telegram")
    whatsapp = whatsapp_integration(workspace)

    client.force_login(agent_user)
    as_agent = client.get(f"/settings/integrations/{whatsapp.pk}/templates/")
    client.force_login(outsider)
    as_outsider = client.get(f"/settings/integrations/{whatsapp.pk}/templates/")
    client.force_login(admin_user)
    on_telegram = client.get(f"/settings/integrations/{telegram.pk}/templates/")

    assert (as_agent.status_code, as_outsider.status_code, on_telegram.status_code) == (
        403,
        404,
        404,
    )


def test_an_operator_syncs_templates_from_admin(fake_api, client, whatsapp):
    from accounts.tests.factories import UserFactory

    client.force_login(UserFactory(workspace=None, is_staff=True, is_superuser=True))
    account_lists(fake_api, [ORDER])

    response = client.post(
        "/admin/integrations/integration/",
        {"action": "sync_message_templates", "_selected_action": [str(whatsapp.pk)]},
    )

    assert response.status_code == 302
    assert rows()[0][0] == "confirmacion_pedido"


# --- the credential once called waba_id ----------------------------------------------------------


def test_the_migration_renames_waba_id(workspace):
    old = IntegrationFactory(
        workspace=workspace,
        platform="whatsapp",
        credentials={"access_token": "t", "phone_number_id": "1", "waba_id": WABA},
    )
    migration = importlib.import_module("integrations.migrations.0006_templates_whatsapp")

    migration.waba_id_to_business_account_id(apps, None)

    old.refresh_from_db()
    assert old.credentials == {
        "access_token": "t",
        "phone_number_id": "1",
        "business_account_id": WABA,
    }
    assert Integration.objects.get(pk=old.pk).credentials.get("waba_id") is None
