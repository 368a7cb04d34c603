"""DRF exception handler producing the single error shape (see docs/architecture.md).

Every API failure, whether raised by DRF, by Django or by a service, leaves as
``{"error": {"code", "message", "details"}}`` with the matching status. Bad input never
becomes a 500: anything unexpected is logged with its traceback and answered with a generic 500
that carries no internals.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from flame.api.errors import (
    RETRY_AFTER_SECONDS,
    UNAVAILABLE_MESSAGE,
    error_body,
    is_unavailable,
)
from flame.exceptions import ApplicationError

logger = logging.getLogger(__name__)

_MESSAGES = {
    "validation_error": "Invalid input.",
    "not_found": "Not found.",
}


def _detail_text(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _detail_text(detail[0])
    if isinstance(detail, dict) and detail:
        return _detail_text(next(iter(detail.values())))
    return str(detail)


def _from_drf(exc: exceptions.APIException) -> Response:
    headers = {}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(max(1, int(exc.wait)))
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = error_body("validation_error", _MESSAGES["validation_error"], details)
    else:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        body = error_body(code, _detail_text(exc.detail))
    if isinstance(exc, exceptions.Throttled):
        body["error"]["code"] = "rate_limited"
        body["error"]["details"] = {"retry_after": int(headers.get("Retry-After", 1))}
    return Response(body, status=exc.status_code, headers=headers)


def _suspicious(exc: SuspiciousOperation) -> Response:
    """Django's refusals of a malformed request (too many form fields or files, ...) are the
    client's doing: a 400, as Django answers them on pages."""
    if isinstance(exc, TooManyFieldsSent):
        body = error_body(
            "too_many_fields",
            "The request has too many fields.",
            {"max_fields": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS},
        )
    elif isinstance(exc, TooManyFilesSent):
        body = error_body(
            "too_many_files",
            "The request has too many files.",
            {"max_files": settings.DATA_UPLOAD_MAX_NUMBER_FILES},
        )
    else:
        body = error_body("bad_request", "Bad request.")
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def _translate(exc: Exception) -> exceptions.APIException | Response | None:
    if isinstance(exc, ApplicationError):
        return Response(
            error_body(exc.code, exc.message, exc.details),
            status=exc.status_code,
            headers=exc.headers(),
        )
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("request_too_large", "The request body is too large."),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, SuspiciousOperation):
        return _suspicious(exc)
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, DjangoValidationError):
        details = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return exceptions.ValidationError(details)
    if isinstance(exc, exceptions.APIException):
        return exc
    return None


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if is_unavailable(exc):
        logger.error("A backing service is unavailable", exc_info=exc)
        return Response(
            error_body("unavailable", UNAVAILABLE_MESSAGE),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    translated = _translate(exc)
    if isinstance(translated, Response):
        return translated
    if translated is None:
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(
            error_body("server_error", "Internal server error."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    response = _from_drf(translated)
    # DRF's own handler adds WWW-Authenticate for 401s through the view; keep that contract.
    auth_header = getattr(context.get("view"), "get_authenticate_header", None)
    if response.status_code == 401 and auth_header:
        header = auth_header(context["request"])
        if header:
            response["WWW-Authenticate"] = header
    return response
