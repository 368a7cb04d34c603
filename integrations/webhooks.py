"""Platform webhook endpoints: verify on raw bytes, store, acknowledge.

Plain Django views rather than DRF: nothing here parses the body, and the acknowledgement path
is one signature check plus one INSERT. A failure to persist is a 503, so the platform retries
instead of believing we have the update.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from flame import metrics
from flame.api.errors import error_response, unavailable_response
from flame.middleware import machine_endpoint
from integrations import ingest, signatures
from integrations.models import Integration, Platform
from integrations.providers import uses_verify_token

logger = logging.getLogger(__name__)


def _accepted(stored) -> JsonResponse:
    return JsonResponse({"status": "ok", "duplicate": stored is None})


def storing(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Whatever the database does while a webhook is checked and stored (down, restarting, out
    of connections), the platform hears 503 and retries: a 500 would say we failed on its data,
    and a 200 that we have it."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DatabaseError:
            logger.exception("Could not store a webhook (%s)", request.path)
            return unavailable_response()

    return wrapped


def _store(platform: str, request: HttpRequest, integrations: list[Integration]) -> HttpResponse:
    stored = ingest.webhook_event_store(
        platform=platform, body=request.body, headers=request.headers, integrations=integrations
    )
    metrics.webhook_answered(platform, "duplicate" if stored is None else "stored")
    return _accepted(stored)


def _rejected(platform: str, status: int, code: str, message: str) -> HttpResponse:
    metrics.webhook_answered(platform, "rejected")
    return error_response(status, code, message)


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
        return _rejected(platform, 401, "signature_missing", "X-Hub-Signature-256 is required.")
    verified = signatures.meta_verified_integrations(platform, request.body, header)
    if not verified:
        logger.warning("Rejected a %s webhook: bad signature", platform)
        return _rejected(platform, 403, "signature_invalid", "The signature does not match.")
    return _store(platform, request, verified)


@machine_endpoint
@csrf_exempt
@require_http_methods(["GET", "POST"])
@storing
def meta_webhook(request: HttpRequest, platform: str) -> HttpResponse:
    if not uses_verify_token(platform):
        return error_response(404, "not_found", "Not found.")
    if request.method == "GET":
        return _meta_handshake(request, platform)
    return _meta_receive(request, platform)


@machine_endpoint
@csrf_exempt
@require_http_methods(["POST"])
@storing
def telegram_webhook(request: HttpRequest, path_secret: str) -> HttpResponse:
    integration = Integration.objects.filter(
        platform=Platform.TELEGRAM, webhook_secret=path_secret
    ).first()
    if integration is None:
        return error_response(404, "not_found", "Not found.")
    header = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not header:
        return _rejected(
            Platform.TELEGRAM,
            401,
            "signature_missing",
            "X-Telegram-Bot-Api-Secret-Token is required.",
        )
    if not signatures.telegram_secret_matches(integration, header):
        return _rejected(
            Platform.TELEGRAM, 403, "signature_invalid", "The secret token does not match."
        )
    return _store(Platform.TELEGRAM, request, [integration])
