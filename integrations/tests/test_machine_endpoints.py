"""Platform webhooks leave the middleware chain early (flame.middleware.MachineEndpointMiddleware):
what still runs for them, what no longer does, and what under the same prefix is untouched."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from prometheus_client import REGISTRY

from integrations.models import WebhookEvent
from integrations.tests.conftest import meta_signature
from integrations.tests.factories import IntegrationFactory
from integrations.tests.test_telegram import SECRET, post_update, telegram  # noqa: F401 - fixture
from integrations.tests.test_telegram import payload as telegram_payload
from integrations.tests.test_whatsapp import (
    APP_SECRET,
    WEBHOOK_URL,
    payload,
    post_signed,
    whatsapp_integration,
)

pytestmark = pytest.mark.django_db

BROWSER_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "Vary", "Set-Cookie")


def _answered(route: str, status: str) -> float:
    """How many requests the timing middleware counted for this route and status class."""
    labels = {"route": route, "method": "POST", "status": status}
    return REGISTRY.get_sample_value("flame_http_request_duration_seconds_count", labels) or 0.0


def test_a_signed_webhook_is_stored_past_the_browsers_middleware(client, workspace):
    whatsapp_integration(workspace)
    before = _answered("webhook-meta", "2xx")

    body = payload("text")
    response = client.post(
        WEBHOOK_URL,
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=meta_signature(body, APP_SECRET),
        HTTP_X_REQUEST_ID="meta-delivery-1",
    )

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "duplicate": False}
    assert WebhookEvent.objects.count() == 1
    # what runs before the early exit still does: the request id and the timing by route
    assert response["X-Request-ID"] == "meta-delivery-1"
    assert _answered("webhook-meta", "2xx") == before + 1
    # the browser's middleware did not
    assert not [name for name in BROWSER_HEADERS if name in response]
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_the_early_exit_keeps_the_views_own_answers(client, workspace):
    whatsapp_integration(workspace)

    unsigned = client.post(
        "/api/webhooks/whatsapp", data=payload("text"), content_type="application/json"
    )
    wrong_method = client.put("/api/webhooks/whatsapp", data=b"{}")
    forged = post_signed(client, payload("text"), secret="not-the-app-secret")

    assert (unsigned.status_code, unsigned.json()["error"]["code"]) == (401, "signature_missing")
    assert wrong_method.status_code == 405
    assert (forged.status_code, forged.json()["error"]["code"]) == (403, "signature_invalid")
    assert WebhookEvent.objects.count() == 0


def test_telegram_takes_the_early_exit_too(client, telegram):  # noqa: F811 - the fixture
    response = post_update(
        client,
        telegram,
        telegram_payload("text_message"),
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET,
    )

    assert response.status_code == 200
    assert "Content-Security-Policy" not in response
    assert WebhookEvent.objects.count() == 1


def test_the_rest_of_the_prefix_takes_the_full_chain(client, workspace):
    """The sandbox simulator is for signed-in members: authentication must still run."""
    sandbox = IntegrationFactory(workspace=workspace, platform="sandbox", external_account_id="sb")

    anonymous = client.post(
        f"/api/webhooks/sandbox/{sandbox.pk}",
        data=json.dumps({"from": "+52155", "text": "hola"}),
        content_type="application/json",
    )
    unknown = client.post("/api/webhooks/not-a-platform", data=b"{}", content_type="text/plain")

    assert anonymous.status_code in (401, 403)
    assert unknown.status_code == 404
    assert "Content-Security-Policy" in anonymous
    assert WebhookEvent.objects.count() == 0
