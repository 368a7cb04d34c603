"""Request-wide middleware: request ids, the access log line, the body size limit, the anonymous
API rate limit and the pages' language."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from flame.api.errors import error_response
from flame.logging import request_id_var, user_id_var, workspace_id_var
from flame.ratelimits import client_ip, hit

access_logger = logging.getLogger("flame.access")

# A caller's id is echoed back, so keep it to a safe alphabet and size (log injection).
_REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _incoming_request_id(request: HttpRequest) -> str:
    candidate = request.headers.get("X-Request-ID", "")
    return candidate if _REQUEST_ID_PATTERN.match(candidate) else uuid.uuid4().hex


def _bind_user(request: HttpRequest) -> None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        user_id_var.set(str(user.pk))
        workspace_id_var.set(str(user.workspace_id) if user.workspace_id else None)


class RequestContextMiddleware:
    """Assigns the request id, binds user/workspace to logs and writes one access line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = _incoming_request_id(request)
        request.request_id = request_id
        tokens = [request_id_var.set(request_id), user_id_var.set(None), workspace_id_var.set(None)]
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            _bind_user(request)
            self._log(request, response, started)
            return response
        finally:
            for var, token in zip(
                (request_id_var, user_id_var, workspace_id_var), tokens, strict=True
            ):
                var.reset(token)

    def _log(self, request: HttpRequest, response: HttpResponse, started: float) -> None:
        status = response.status_code
        level = (
            logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
        )
        access_logger.log(
            level,
            "%s %s %s",
            request.method,
            request.path,
            status,
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )


class RequestBodyLimitMiddleware:
    """Refuses bodies over MAX_REQUEST_BODY_BYTES with 413 before anything reads them.

    Django would raise RequestDataTooBig only once a view touches ``request.body`` and turn it
    into a 400; checking the declared length up front gives the client the right status and
    spends no memory on the body. Chunked bodies without a length are caught by the API
    exception handler when they are read.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(400, "bad_request", "Content-Length is not a number.")
        limit = body_limit_for(request.path)
        if declared > limit:
            return error_response(
                413, "request_too_large", "The request body is too large.", {"max_bytes": limit}
            )
        return self.get_response(request)


def body_limit_for(path: str) -> int:
    if path.startswith("/api/webhooks/"):
        return settings.WEBHOOK_MAX_BODY_BYTES
    return settings.MAX_REQUEST_BODY_BYTES


class AnonymousApiRateLimitMiddleware:
    """The seed's per-IP limit (RATELIMIT_ANONYMOUS) for API calls that carry no credentials.

    It runs before DRF because DRF checks permissions before throttles: an anonymous call to a
    protected endpoint would be answered 401 without ever being counted. Calls with a bearer
    token or a signed-in session are limited per user by ``flame.api.throttling``. Platform
    webhooks are exempt: Meta and Telegram deliver from shared IPs at high rates and are
    authenticated by signature instead.
    """

    exempt_prefixes = ("/api/webhooks/",)

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._is_counted(request):
            wait = hit(
                request,
                group="api-anonymous",
                key=client_ip(request),
                rate=settings.RATELIMIT_ANONYMOUS,
            )
            if wait is not None:
                response = error_response(
                    429,
                    "rate_limited",
                    "Too many requests. Try again later.",
                    {"retry_after": wait},
                )
                response["Retry-After"] = str(wait)
                return response
        return self.get_response(request)

    def _is_counted(self, request: HttpRequest) -> bool:
        if not request.path.startswith("/api/") or request.path.startswith(self.exempt_prefixes):
            return False
        if request.headers.get("Authorization"):
            return False
        user = getattr(request, "user", None)
        return not (user is not None and user.is_authenticated)


class UserLanguageMiddleware:
    """Pages speak the signed-in user's language, else their workspace's.

    Runs after LocaleMiddleware (which serves anonymous pages from the language cookie or the
    browser's Accept-Language). API responses keep their one documented language, so clients
    can match on error messages.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = self._language_of(request)
        if not language:
            return self.get_response(request)
        # Scoped to this request: the thread's language goes back to what it was after it.
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
        # LocaleMiddleware (outside this one) only fills Content-Language when it is missing.
        response.headers.setdefault("Content-Language", language)
        return response

    @staticmethod
    def _language_of(request: HttpRequest) -> str:
        if request.path.startswith("/api/"):
            return ""
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return ""
        if user.language:
            return user.language
        return user.workspace.language if user.workspace_id else ""
