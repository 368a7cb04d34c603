"""Request-wide middleware: request ids, the access log line, the body size limit, refusing NUL
characters, the anonymous API rate limit and the pages' language."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, ResolverMatch, resolve
from django.utils import translation
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken

from accounts.api_keys import is_issued_by_us, presented_secret
from flame.api.errors import error_response
from flame.logging import request_id_var, user_id_var, workspace_id_var
from flame.ratelimits import CountersUnavailable, client_ip, hit
from flame.text import NULL_NOT_ALLOWED

access_logger = logging.getLogger("flame.access")

# Where platforms (and the sandbox simulator) post: its own body limit, no anonymous rate limit,
# and the signed platform webhooks' early exit from the middleware chain.
WEBHOOKS_PREFIX = "/api/webhooks/"

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
    into a 400; checking the declared length up front gives API clients the right status and
    spends no memory on the body. Chunked bodies without a length are caught by the API
    exception handler when they are read. Pages get Django's plain 400 page either way: a
    browser shows the page, not the status.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        is_api = _is_api(request)
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            if not is_api:
                raise BadRequest("Content-Length is not a number.") from None
            return error_response(400, "bad_request", "Content-Length is not a number.")
        limit = body_limit_for(request.path)
        if declared <= limit:
            return self.get_response(request)
        if not is_api:
            raise RequestDataTooBig("The request body is too large.")
        return error_response(
            413, "request_too_large", "The request body is too large.", {"max_bytes": limit}
        )


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


# Agents attach files to messages: that body may hold one file plus the form around it.
_MESSAGE_UPLOAD_PATH = re.compile(r"^/api/conversations/[0-9a-fA-F-]{32,36}/messages/?$")


def body_limit_for(path: str) -> int:
    if path.startswith(WEBHOOKS_PREFIX):
        return settings.WEBHOOK_MAX_BODY_BYTES
    if _MESSAGE_UPLOAD_PATH.match(path):
        return settings.MEDIA_UPLOAD_MAX_BYTES + settings.MAX_REQUEST_BODY_BYTES
    return settings.MAX_REQUEST_BODY_BYTES


class NullCharacterMiddleware:
    """Refuses NUL characters in query strings (every path) and in the form bodies of pages.

    PostgreSQL can neither store nor compare text holding NUL, so a ``%00`` in a search box,
    a filter or a sign-in form would reach a query and come back as a server error. API bodies
    are checked by their parsers instead (``flame.api.parsers``), which also catch JSON's
    escapes. Lone surrogates cannot arrive this way: Django decodes invalid percent-encoded
    UTF-8 as U+FFFD.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = _query_field_with_null(request.META.get("QUERY_STRING", ""))
        is_api = _is_api(request)
        if field is None and not is_api and request.method == "POST":
            # Parsed once by Django and kept: the CSRF check would read it next anyway.
            posted = ((name, value) for name, values in request.POST.lists() for value in values)
            field = _field_with_null(posted)
        if field is None:
            return self.get_response(request)
        if is_api:
            return error_response(
                400,
                "validation_error",
                "Invalid input.",
                {field or "non_field_errors": [NULL_NOT_ALLOWED]},
            )
        # Django's 400 page, like any other malformed request to a page.
        raise BadRequest("Null character in the request.")


def _query_field_with_null(query_string: str) -> str | None:
    if "%00" not in query_string:
        return None  # the common case, without parsing
    return _field_with_null(parse_qsl(query_string, keep_blank_values=True))


def _field_with_null(pairs) -> str | None:
    """The name of the first parameter holding NUL ("" when the name itself does), or None."""
    for name, value in pairs:
        if "\x00" in name:
            return ""
        if "\x00" in value:
            return name
    return None


def machine_endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Marks a view that platforms call and no browser does (signed webhooks), for
    ``MachineEndpointMiddleware``. Its route must live under WEBHOOKS_PREFIX."""
    view.machine_endpoint = True  # type: ignore[attr-defined]
    return view


def _machine_route(request: HttpRequest) -> ResolverMatch | None:
    if not request.path_info.startswith(WEBHOOKS_PREFIX):
        return None
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    return match if getattr(match.func, "machine_endpoint", False) else None


class MachineEndpointMiddleware:
    """Platform webhooks go straight to their view after the request id, the audit context, the
    timing, the body limit and the NUL check; the browser's middleware after this one is skipped.

    Sessions, language, CSRF (the views are exempt), authentication (the signature is the
    credential), messages, CORS, frame and content-security headers do nothing for a call from
    Meta's or Telegram's servers, and running them was 40 % of a webhook's CPU in the web
    process — at a burst's hundreds a second, a share of the machine. Anything else under the
    prefix (the sandbox simulator, signed in) takes the full chain.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        match = _machine_route(request)
        if match is None:
            return self.get_response(request)
        request.resolver_match = match
        return match.func(request, *match.args, **match.kwargs)


class AnonymousApiRateLimitMiddleware:
    """The seed's per-IP limit (RATELIMIT_ANONYMOUS) for API calls that carry no credentials.

    It runs before DRF because DRF checks permissions before throttles: an anonymous call to a
    protected endpoint would be answered 401 without ever being counted. Calls with a bearer
    token, an API key we issued or a signed-in session are limited per user (or key) by
    ``flame.api.throttling``. Platform webhooks are exempt: Meta and Telegram deliver from
    shared IPs at high rates and are authenticated by signature instead.
    """

    exempt_prefixes = (WEBHOOKS_PREFIX,)

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._is_counted(request):
            wait = _anonymous_wait(request)
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
        if bearer_token_is_valid(request.headers.get("Authorization", "")):
            return False
        key = presented_secret(request.headers)
        if key is not None and is_issued_by_us(key):
            return False  # limited per key (flame.api.throttling)
        user = getattr(request, "user", None)
        return not (user is not None and user.is_authenticated)


def bearer_token_is_valid(header: str) -> bool:
    """Whether ``header`` carries an access token we signed that has not expired.

    Only the signature and expiry are checked (no database): enough to tell a caller who will
    be limited per user from one who merely sends ``Authorization: Bearer anything`` to escape
    the anonymous limit. Revoked tokens still fail authentication in DRF, after being counted
    here as credentials, which costs an attacker a token we issued to them.
    """
    scheme, _, raw = header.partition(" ")
    if scheme not in api_settings.AUTH_HEADER_TYPES or not raw.strip():
        return False
    try:
        AccessToken(raw.strip())
    except TokenError:
        return False
    return True


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


def _anonymous_wait(request: HttpRequest) -> int | None:
    """The anonymous limit only protects capacity: with Redis down the request goes through."""
    try:
        limit = settings.RATELIMIT_ANONYMOUS
        return hit(request, group="api-anonymous", key=client_ip(request), rate=limit)
    except CountersUnavailable:
        return None
