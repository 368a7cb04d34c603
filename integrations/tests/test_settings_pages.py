"""Channel settings pages through the Django test client: every page and action, who may use
them, refused input (400, nothing changed), other workspaces' channels (404, nothing changed),
and credentials that never come back out of the server."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assistants.tests.factories import AssistantFactory
from conversations.models import Conversation
from conversations.tests.factories import ConversationFactory, MessageFactory
from flame.exceptions import ConflictError, InvalidInput
from integrations import services
from integrations.models import Integration
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

ACCESS_TOKEN = "EAAG-canary-access-token-5f2a"
APP_SECRET = "canary-app-secret-91c7"
PHONE_NUMBER_ID = "113948276501234"
WHATSAPP_FORM = {
    "name": "Ventas WhatsApp",
    "default_assistant": "",
    "access_token": ACCESS_TOKEN,
    "phone_number_id": PHONE_NUMBER_ID,
    "app_secret": APP_SECRET,
    "business_account_id": "",
    "verify_token": "paste-me-into-meta",
}
SECRETS = (ACCESS_TOKEN, APP_SECRET)
NUMBER_PATH = rf"^/{settings.GRAPH_API_VERSION}/{PHONE_NUMBER_ID}$"


@pytest.fixture
def admin(client, admin_user):
    # The admin chose no language: pages speak their workspace's (the factory's Spanish).
    client.force_login(admin_user)
    return client


@pytest.fixture
def whatsapp(workspace):
    return IntegrationFactory(
        workspace=workspace,
        platform="whatsapp",
        name="WA Ventas",
        status=Integration.Status.INACTIVE,
        external_account_id=PHONE_NUMBER_ID,
        verify_token="paste-me-into-meta",
        credentials={
            "access_token": ACCESS_TOKEN,
            "phone_number_id": PHONE_NUMBER_ID,
            "app_secret": APP_SECRET,
            "verify_token": "paste-me-into-meta",
        },
    )


@pytest.fixture
def sandbox(workspace):
    return IntegrationFactory(workspace=workspace, platform="sandbox", name="Pruebas")


def _snapshot():
    rows = Integration.objects.order_by("pk")
    return [
        (i.pk, i.name, i.status, i.credentials, i.default_assistant_id, i.last_error) for i in rows
    ]


def _assert_no_secrets(response) -> None:
    html = response.content.decode()
    for secret in SECRETS:
        assert secret not in html


def _object_urls(integration) -> list[tuple[str, str]]:
    pk = integration.pk
    return [
        ("get", reverse("settings-integration", args=[pk])),
        ("get", reverse("settings-integration-edit", args=[pk])),
        ("post", reverse("settings-integration-edit", args=[pk])),
        ("post", reverse("settings-integration-connect", args=[pk])),
        ("post", reverse("settings-integration-disconnect", args=[pk])),
        ("get", reverse("settings-integration-delete", args=[pk])),
        ("post", reverse("settings-integration-delete", args=[pk])),
    ]


def _body_for(url: str) -> dict:
    return {"name": "Cambiado", "access_token": "stolen-new-token"} if "edit" in url else {}


# --- who may open what ---------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, whatsapp):
    before = _snapshot()
    urls = [
        ("get", reverse("settings-integrations")),
        ("get", reverse("settings-integration-new")),
        ("get", reverse("settings-integration-create", args=["whatsapp"])),
        ("post", reverse("settings-integration-create", args=["sandbox"])),
        *_object_urls(whatsapp),
    ]

    for method, url in urls:
        response = getattr(client, method)(url, _body_for(url) if method == "post" else None)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/"), url
    assert _snapshot() == before


def test_agents_are_forbidden_every_page(client, agent_user, whatsapp, sandbox):
    client.force_login(agent_user)
    before = _snapshot()
    urls = [
        ("get", reverse("settings-integrations")),
        ("get", reverse("settings-integration-new")),
        ("get", reverse("settings-integration-create", args=["whatsapp"])),
        ("post", reverse("settings-integration-create", args=["sandbox"])),
        *_object_urls(whatsapp),
        *_object_urls(sandbox),
    ]

    for method, url in urls:
        response = getattr(client, method)(url, _body_for(url) if method == "post" else None)
        assert response.status_code == 403, url
    assert _snapshot() == before


def test_another_workspace_channels_are_404_and_unchanged(client, outsider, whatsapp, sandbox):
    client.force_login(outsider)
    before = _snapshot()

    for method, url in [*_object_urls(whatsapp), *_object_urls(sandbox)]:
        response = getattr(client, method)(url, _body_for(url) if method == "post" else None)
        assert response.status_code == 404, (method, url)
    assert _snapshot() == before


def test_outsider_list_does_not_show_other_workspaces(client, outsider, whatsapp):
    client.force_login(outsider)

    response = client.get(reverse("settings-integrations"))

    assert response.status_code == 200
    assert "WA Ventas" not in response.content.decode()


# --- list and platform picker --------------------------------------------------------------------


def test_list_shows_platform_status_last_error_and_assistant(admin, workspace, whatsapp):
    assistant = AssistantFactory(workspace=workspace, name="Recepción")
    IntegrationFactory(
        workspace=workspace,
        platform="telegram",
        name="Bot",
        status=Integration.Status.ERROR,
        last_error="The bot token was revoked.",
        default_assistant=assistant,
    )
    for n in range(3):
        IntegrationFactory(workspace=workspace, name=f"Sandbox {n}", default_assistant=assistant)

    response = admin.get(reverse("settings-integrations"))

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["nav"] == "integrations"
    assert html.count('data-testid="integration-row"') == 5
    assert "platform-telegram" in html
    assert "platform-whatsapp" in html
    assert "The bot token was revoked." in html
    assert "Recepción" in html
    assert "No conectado" in html
    assert "Conectado" in html
    assert "Error" in html
    _assert_no_secrets(response)


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("settings-integrations")).status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_channels(admin, workspace):
    def channel(n: int) -> None:  # each row shows its own default assistant
        assistant = AssistantFactory(workspace=workspace, name=f"Asistente {n}")
        IntegrationFactory(workspace=workspace, name=f"Canal {n}", default_assistant=assistant)

    channel(0)
    with_one = _list_queries(admin)

    for n in range(1, 6):
        channel(n)
    with_six = _list_queries(admin)

    assert with_six == with_one
    assert with_one <= 8


def test_empty_list_offers_the_sandbox(admin):
    response = admin.get(reverse("settings-integrations"))

    html = response.content.decode()
    assert 'data-testid="integration-empty"' in html
    assert reverse("settings-integration-create", args=["sandbox"]) in html


def test_new_offers_every_platform(admin):
    response = admin.get(reverse("settings-integration-new"))

    html = response.content.decode()
    for platform in ("whatsapp", "facebook", "instagram", "telegram", "sandbox"):
        assert f'data-testid="platform-{platform}"' in html


@pytest.mark.parametrize(
    ("platform", "fields"),
    [
        (
            "whatsapp",
            [
                "access_token",
                "phone_number_id",
                "app_secret",
                "business_account_id",
                "verify_token",
            ],
        ),
        ("facebook", ["page_id", "page_access_token", "app_secret", "verify_token"]),
        (
            "instagram",
            [
                "instagram_account_id",
                "access_token",
                "app_secret",
                "verify_token",
                "instagram_app_secret",
                "page_id",
            ],
        ),
        ("telegram", ["bot_token", "secret_token"]),
        ("sandbox", []),
    ],
)
def test_create_form_has_the_platform_credentials(admin, platform, fields):
    response = admin.get(reverse("settings-integration-create", args=[platform]))

    form = response.context["form"]
    assert response.status_code == 200
    assert form.credential_names == fields
    assert all(f'name="{name}"' in response.content.decode() for name in fields)


def test_unknown_platform_is_404(admin):
    assert admin.get(reverse("settings-integration-create", args=["myspace"])).status_code == 404


# --- create --------------------------------------------------------------------------------------


def test_create_whatsapp_then_detail_shows_webhook_and_verify_token(admin, workspace):
    assistant = AssistantFactory(workspace=workspace, name="Recepción")
    body = {**WHATSAPP_FORM, "default_assistant": str(assistant.pk)}

    response = admin.post(reverse("settings-integration-create", args=["whatsapp"]), body)

    integration = Integration.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("settings-integration", args=[integration.pk])
    assert (integration.workspace, integration.platform, integration.name) == (
        workspace,
        "whatsapp",
        "Ventas WhatsApp",
    )
    assert integration.credentials == {
        "access_token": ACCESS_TOKEN,
        "phone_number_id": PHONE_NUMBER_ID,
        "app_secret": APP_SECRET,
        "verify_token": "paste-me-into-meta",
    }
    assert integration.default_assistant == assistant
    assert integration.status == "inactive"

    detail = admin.get(response["Location"])
    html = detail.content.decode()
    assert 'value="http://127.0.0.1:8000/api/webhooks/whatsapp"' in html
    assert 'data-testid="verify-token"' in html
    assert 'value="paste-me-into-meta"' in html
    assert 'data-testid="integration-connect"' in html
    assert [str(m) for m in detail.context["messages"]] == ["Canal “Ventas WhatsApp” agregado."]
    _assert_no_secrets(detail)


def test_create_telegram_generates_its_secret_and_hides_the_token(admin):
    token = "123456789:AAH-canary-bot-token-abcdefghijkl"

    response = admin.post(
        reverse("settings-integration-create", args=["telegram"]),
        {"name": "Bot", "bot_token": token, "secret_token": ""},
    )

    integration = Integration.objects.get()
    detail = admin.get(response["Location"])
    html = detail.content.decode()
    assert response.status_code == 302
    assert len(integration.credentials["secret_token"]) >= 32
    assert token not in html
    assert integration.credentials["secret_token"] not in html
    assert 'data-testid="verify-token"' not in html  # only Meta platforms use one
    assert f"/api/webhooks/telegram/{integration.webhook_secret}" in html


def test_create_sandbox_is_connected_at_once(admin):
    response = admin.post(reverse("settings-integration-create", args=["sandbox"]), {"name": "T"})

    integration = Integration.objects.get()
    assert response.status_code == 302
    assert (integration.platform, integration.status) == ("sandbox", "active")


@pytest.mark.parametrize(
    "changes",
    [
        {"access_token": ""},  # required by the WhatsApp spec
        {"app_secret": "   "},
        {"name": ""},
        {"default_assistant": "not-a-uuid"},
    ],
)
def test_create_refuses_invalid_input(admin, changes):
    response = admin.post(
        reverse("settings-integration-create", args=["whatsapp"]), {**WHATSAPP_FORM, **changes}
    )

    assert response.status_code == 400
    assert response.context["form"].errors
    assert Integration.objects.count() == 0
    _assert_no_secrets(response)  # a refused form does not echo the typed secrets


def test_create_refuses_another_workspace_assistant(admin, outsider):
    foreign = AssistantFactory(workspace=outsider.workspace)
    body = {**WHATSAPP_FORM, "default_assistant": str(foreign.pk)}

    response = admin.post(reverse("settings-integration-create", args=["whatsapp"]), body)

    assert response.status_code == 400
    assert "default_assistant" in response.context["form"].errors
    assert Integration.objects.count() == 0


def test_create_refuses_an_account_connected_elsewhere(admin, outsider):
    IntegrationFactory(
        workspace=outsider.workspace, platform="whatsapp", external_account_id=PHONE_NUMBER_ID
    )

    response = admin.post(reverse("settings-integration-create", args=["whatsapp"]), WHATSAPP_FORM)

    assert response.status_code == 409
    assert response.context["form"].non_field_errors() == [
        "Esta cuenta del canal ya está conectada a un espacio de trabajo."
    ]
    assert Integration.objects.count() == 1
    _assert_no_secrets(response)


# --- edit ----------------------------------------------------------------------------------------


def test_edit_form_never_shows_stored_credentials(admin, whatsapp):
    response = admin.get(reverse("settings-integration-edit", args=[whatsapp.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Guardado. Déjalo vacío para conservarlo." in html
    assert PHONE_NUMBER_ID not in html  # not even the ones that are not secret
    _assert_no_secrets(response)


def test_edit_with_blank_credentials_keeps_them(admin, workspace, whatsapp):
    assistant = AssistantFactory(workspace=workspace)
    url = reverse("settings-integration-edit", args=[whatsapp.pk])
    stored = dict(whatsapp.credentials)

    response = admin.post(url, {"name": "WA Soporte", "default_assistant": str(assistant.pk)})

    whatsapp.refresh_from_db()
    assert response.status_code == 302
    assert (whatsapp.name, whatsapp.default_assistant) == ("WA Soporte", assistant)
    assert whatsapp.credentials == stored


def test_edit_replaces_only_the_credentials_typed(admin, whatsapp):
    Integration.objects.filter(pk=whatsapp.pk).update(status="active")
    url = reverse("settings-integration-edit", args=[whatsapp.pk])

    response = admin.post(url, {"name": "WA Ventas", "access_token": "EAAG-new-token"})

    whatsapp.refresh_from_db()
    assert response.status_code == 302
    assert whatsapp.credentials["access_token"] == "EAAG-new-token"
    assert whatsapp.credentials["app_secret"] == APP_SECRET
    assert whatsapp.status == "inactive"  # new credentials must be connected again


def test_edit_refuses_invalid_input_and_changes_nothing(admin, whatsapp, outsider):
    before = _snapshot()
    url = reverse("settings-integration-edit", args=[whatsapp.pk])
    foreign = AssistantFactory(workspace=outsider.workspace)

    blank_name = admin.post(url, {"name": "", "access_token": "EAAG-new-token"})
    foreign_assistant = admin.post(url, {"name": "X", "default_assistant": str(foreign.pk)})

    assert blank_name.status_code == 400
    assert foreign_assistant.status_code == 400
    assert _snapshot() == before
    _assert_no_secrets(blank_name)


def test_edit_refuses_an_account_taken_and_changes_nothing(admin, workspace, whatsapp):
    IntegrationFactory(workspace=workspace, platform="whatsapp", external_account_id="999")
    before = _snapshot()

    response = admin.post(
        reverse("settings-integration-edit", args=[whatsapp.pk]),
        {"name": "Nuevo nombre", "phone_number_id": "999"},
    )

    assert response.status_code == 409
    assert response.context["integration"].name == "WA Ventas"
    assert _snapshot() == before


def _fields(integration: Integration) -> tuple:
    return (
        integration.name,
        integration.status,
        integration.credentials,
        integration.external_account_id,
        integration.verify_token,
        integration.default_assistant_id,
    )


@pytest.mark.parametrize(
    ("credentials", "refusal"),
    [
        ({"phone_number_id": "999"}, ConflictError),  # an account connected elsewhere
        ({"myspace_token": "x"}, InvalidInput),  # not a WhatsApp credential
        ({"access_token": "  "}, InvalidInput),  # a required one blanked
    ],
)
def test_a_refused_update_leaves_the_instance_and_the_row_as_they_were(
    workspace, whatsapp, credentials, refusal
):
    # given
    IntegrationFactory(workspace=workspace, platform="whatsapp", external_account_id="999")
    Integration.objects.filter(pk=whatsapp.pk).update(status="active")
    whatsapp.refresh_from_db()
    in_memory, stored = _fields(whatsapp), _snapshot()

    # when
    with pytest.raises(refusal):
        services.integration_update(
            integration=whatsapp,
            name="Nuevo nombre",
            credentials={**credentials, "verify_token": "a-new-phrase"},
            default_assistant=AssistantFactory(workspace=workspace),
        )

    # then
    assert _fields(whatsapp) == in_memory
    assert _snapshot() == stored


# --- connect, disconnect, delete -----------------------------------------------------------------


def test_connect_and_disconnect_sandbox(admin, sandbox):
    Integration.objects.filter(pk=sandbox.pk).update(status="inactive")

    connected = admin.post(reverse("settings-integration-connect", args=[sandbox.pk]), follow=True)
    sandbox.refresh_from_db()
    assert sandbox.status == "active"
    assert [str(m) for m in connected.context["messages"]] == [
        "Conectado. El canal está recibiendo mensajes."
    ]

    disconnected = admin.post(
        reverse("settings-integration-disconnect", args=[sandbox.pk]), follow=True
    )
    sandbox.refresh_from_db()
    assert sandbox.status == "inactive"
    assert [str(m) for m in disconnected.context["messages"]] == [
        "Desconectado. Ya no se reciben mensajes nuevos."
    ]


def test_connect_whatsapp_checks_the_number(admin, whatsapp, fake_api):
    fake_api.respond("GET", NUMBER_PATH, body={"id": PHONE_NUMBER_ID, "verified_name": "Nogal"})

    response = admin.post(reverse("settings-integration-connect", args=[whatsapp.pk]))

    whatsapp.refresh_from_db()
    assert response.status_code == 302
    assert (whatsapp.status, whatsapp.last_error) == ("active", "")


def test_connect_refused_shows_the_platform_reason(admin, whatsapp, fake_api):
    fake_api.respond(
        "GET",
        NUMBER_PATH,
        status=401,
        body={"error": {"message": "Error validating access token", "code": 190}},
    )

    response = admin.post(reverse("settings-integration-connect", args=[whatsapp.pk]), follow=True)

    whatsapp.refresh_from_db()
    reason = "The access token is invalid or expired. Reconnect the channel."
    html = response.content.decode()
    assert (whatsapp.status, whatsapp.last_error) == ("error", reason)
    assert [str(m) for m in response.context["messages"]] == [
        f"La plataforma rechazó la conexión. {reason}"  # the platform's reason is as it came
    ]
    assert 'data-testid="last-error"' in html
    assert reason in html
    _assert_no_secrets(response)


def test_delete_asks_then_deletes(admin, sandbox):
    url = reverse("settings-integration-delete", args=[sandbox.pk])

    assert admin.get(url).status_code == 200
    assert Integration.objects.count() == 1
    response = admin.post(url)

    assert response.status_code == 302
    assert response["Location"] == reverse("settings-integrations")
    assert Integration.objects.count() == 0


def test_delete_with_conversations_is_refused(admin, workspace, sandbox):
    ConversationFactory(workspace=workspace, integration=sandbox)

    response = admin.post(reverse("settings-integration-delete", args=[sandbox.pk]), follow=True)

    assert Integration.objects.filter(pk=sandbox.pk).exists()
    assert [str(m) for m in response.context["messages"]] == [
        "Este canal tiene conversaciones; desconéctalo en lugar de eliminarlo."
    ]


# --- detail: counts and the simulator ------------------------------------------------------------


def test_detail_counts_what_went_through(admin, workspace, sandbox):
    conversation = ConversationFactory(workspace=workspace, integration=sandbox)
    MessageFactory(conversation=conversation, integration=sandbox, sender="user")
    MessageFactory(conversation=conversation, integration=sandbox, sender="user")
    MessageFactory(conversation=conversation, integration=sandbox, sender="agent", status="failed")

    response = admin.get(reverse("settings-integration", args=[sandbox.pk]))

    assert response.status_code == 200
    assert response.context["counts"] == {
        "conversations": 1,
        "messages_in": 2,
        "messages_out": 1,
        "failed_out": 1,
        "webhooks_received": 0,
        "webhooks_failed": 0,
    }


def test_sandbox_detail_has_the_simulator(admin, sandbox):
    response = admin.get(reverse("settings-integration", args=[sandbox.pk]))

    html = response.content.decode()
    assert 'data-testid="simulator"' in html
    assert f'data-endpoint="/api/webhooks/sandbox/{sandbox.pk}"' in html
    assert "js/settings/simulator.js" in html
    assert 'data-testid="verify-token"' not in html
    assert "<script>" not in html


def test_other_platforms_have_no_simulator(admin, whatsapp):
    response = admin.get(reverse("settings-integration", args=[whatsapp.pk]))

    assert 'data-testid="simulator"' not in response.content.decode()


def test_the_simulator_endpoint_takes_a_session_member(
    admin, sandbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            f"/api/webhooks/sandbox/{sandbox.pk}",
            {"from": "+15550100001", "name": "Lucía", "text": "¿Abren el domingo?"},
            content_type="application/json",
        )

    conversation = Conversation.objects.get()
    assert response.status_code == 202
    assert (conversation.integration, conversation.contact.name) == (sandbox, "Lucía")
    assert conversation.last_message == "¿Abren el domingo?"
