"""The webhooks pages through the Django test client (session sign-in)."""

from __future__ import annotations

import pytest

from outgoing_webhooks import services
from outgoing_webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

PAGE = "/settings/webhooks/"


@pytest.fixture(autouse=True)
def _private_targets(settings):
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = True


def _endpoint(admin_user) -> WebhookEndpoint:
    return services.endpoint_create(
        by=admin_user, url="http://127.0.0.1:9/hook", events=["message.created"]
    )


def test_an_admin_adds_a_webhook_and_sees_its_secret_once(client, admin_user):
    client.force_login(admin_user)

    created = client.post(
        PAGE, {"url": "http://127.0.0.1:9/hook", "events": ["message.created"], "description": ""}
    )
    listed = client.get(PAGE)

    endpoint = WebhookEndpoint.objects.get()
    assert created.status_code == 200
    assert endpoint.secret in created.content.decode()
    assert endpoint.secret not in listed.content.decode()
    assert endpoint.url in listed.content.decode()


def test_a_private_target_is_refused_on_the_page(client, admin_user, settings):
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = False
    client.force_login(admin_user)

    response = client.post(PAGE, {"url": "http://10.0.0.1/hook", "events": ["message.created"]})

    assert response.status_code == 400
    assert "url" in response.context["form"].errors
    assert WebhookEndpoint.objects.count() == 0


def test_an_admin_turns_it_off_redelivers_and_deletes(client, admin_user, workspace):
    endpoint = _endpoint(admin_user)
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        workspace=workspace,
        event_type="message.created",
        source_event_id=1,
        body="{}",
        status="failed",
    )
    client.force_login(admin_user)
    detail = f"{PAGE}{endpoint.pk}/"

    shown = client.get(detail)
    redelivered = client.post(f"{detail}deliveries/{delivery.pk}/redeliver/")
    delivery.refresh_from_db()
    saved = client.post(detail, {"url": endpoint.url, "events": ["message.created"]})
    endpoint.refresh_from_db()
    confirm = client.get(f"{detail}delete/")
    deleted = client.post(f"{detail}delete/")

    assert shown.status_code == 200
    assert redelivered.status_code == 302
    assert delivery.attempts == 1  # tried again at once (nothing listens on port 9)
    assert delivery.status == "retrying"
    assert saved.status_code == 302
    assert endpoint.is_active is False  # the box was left unticked
    assert confirm.status_code == 200
    assert deleted.status_code == 302
    assert WebhookEndpoint.objects.count() == 0


def test_agents_get_403_and_other_workspaces_404(client, admin_user, agent_user, outsider):
    endpoint = _endpoint(admin_user)
    detail = f"{PAGE}{endpoint.pk}/"

    client.force_login(agent_user)
    agent = [client.get(PAGE).status_code, client.get(detail).status_code]
    client.force_login(outsider)
    outsider_answers = [
        client.get(detail).status_code,
        client.post(
            detail, {"url": "http://127.0.0.1:9/x", "events": ["message.created"]}
        ).status_code,
        client.post(f"{detail}delete/").status_code,
    ]

    assert agent == [403, 403]
    assert outsider_answers == [404, 404, 404]
    endpoint.refresh_from_db()
    assert endpoint.url == "http://127.0.0.1:9/hook"
