"""Platform webhook endpoints: verify on raw bytes, store, acknowledge.

Plain Django views rather than DRF: nothing here parses the body, and the acknowledgement path
is one signature check plus one INSERT. A failure to persist is a 503, so the platform retries
instead of believing we have the update.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from flame.api.errors import error_response
from integrations import ingest, signatures
from integrations.models import Integration, Platform
from integrations.providers import uses_verify_token

logger = logging.getLogger(__name__)


def _accepted(stored) -> JsonResponse:
    return JsonResponse({"status": "ok", "duplicate": stored is None})


def _store(platform: str, request: HttpRequest, integrations: list[Integration]) -> HttpResponse:
    try:
        stored = ingest.webhook_event_store(
            platform=platform, body=request.body, headers=request.headers, integrations=integrations
        )
    except DatabaseError:
        logger.exception("Could not store a %s webhook", platform)
        return error_response(503, "unavailable", "Could not store the event; retry later.")
    return _accepted(stored)


def _meta_handshake(request: HttpRequest, platform: str) -> HttpResponse:
    token = request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    known = token and Integration.objects.filter(platform=platform, verify_token=token).exists()
    if request.GET.get("hub.mode") == "subscribe" and known:
        return HttpResponse(challenge, content_type="text/plain")
    return error_response(403, "verification_failed", "Unknown verify token.")


def _meta_receive(request: HttpRequest, platform: str) -> HttpResponse:
    header = request.headers.get("X-Hub-Signature-256", "")
    if not header:
        return error_response(401, "signature_missing", "X-Hub-Signature-256 is required.")
    verified = signatures.meta_verified_integrations(platform, request.body, header)
    if not verified:
        logger.warning("Rejected a %s webhook: bad signature", platform)
        return error_response(403, "signature_invalid", "The signature does not match.")
    return _store(platform, request, verified)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def meta_webhook(request: HttpRequest, platform: str) -> HttpResponse:
    if not uses_verify_token(platform):
        return error_response(404, "not_found", "Not found.")
    if request.method == "GET":
        return _meta_handshake(request, platform)
    return _meta_receive(request, platform)


@csrf_exempt
@require_http_methods(["POST"])
def telegram_webhook(request: HttpRequest, path_secret: str) -> HttpResponse:
    integration = Integration.objects.filter(
        platform=Platform.TELEGRAM, webhook_secret=path_secret
    ).first()
    if integration is None:
        return error_response(404, "not_found", "Not found.")
    header = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not header:
        return error_response(
            401, "signature_missing", "X-Telegram-Bot-Api-Secret-Token is required."
        )
    if not signatures.telegram_secret_matches(integration, header):
        return error_response(403, "signature_invalid", "The secret token does not match.")
    return _store(Platform.TELEGRAM, request, [integration])
