"""``POST /api/webhooks/<stripe|lemonsqueezy>``: the payment providers' events.

Plain Django views, like the channels' (integrations.webhooks): the body is verified as raw
bytes before anything else. 200 for an event stored and applied (or a replay of one); 401/403
for a delivery that is not the provider's, with nothing stored; 400 for a signed body that
cannot be read; 503 when the database is away and 500 when applying failed, so the provider
delivers it again (the stored event is not "done" until applied).
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing import services
from billing.providers.base import SignatureError
from flame import metrics
from flame.api.errors import error_response
from flame.exceptions import ApplicationError
from integrations.webhooks import storing

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
@storing
def payment_webhook(request: HttpRequest, provider_name: str) -> HttpResponse:
    try:
        receipt = services.billing_event_receive(
            provider_name=provider_name, body=request.body, headers=request.headers
        )
    except SignatureError as refusal:
        logger.warning("Rejected a %s webhook: %s", provider_name, refusal.code)
        metrics.webhook_answered(provider_name, "rejected")
        status = 401 if refusal.code == "signature_missing" else 403
        return error_response(status, refusal.code, refusal.message)
    except ApplicationError as refusal:
        metrics.webhook_answered(provider_name, "rejected")
        return error_response(refusal.status_code, refusal.code, refusal.message)
    metrics.webhook_answered(provider_name, "duplicate" if receipt.duplicate else "stored")
    return JsonResponse(
        {"status": "ok", "duplicate": receipt.duplicate, "result": receipt.event.status}
    )
