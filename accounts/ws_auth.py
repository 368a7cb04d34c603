"""WebSocket authentication and Origin checks.

Browsers use the session cookie (Channels' AuthMiddlewareStack fills ``scope["user"]``). API
clients send their JWT access token as a subprotocol, ``["flame.jwt", <access>]``, or as
``?token=`` when their library cannot set subprotocols. A token wins over a cookie.

The middlewares only say who the socket claims to be: a session user, or a token whose
signature and expiry are valid (a stateless ``TokenUser``, no database). The consumer loads the
user as stored with :func:`socket_user` after joining the user's own group, so a deactivation
or a role change committed meanwhile is either read or announced to the socket, never lost.

Origin: a browser always sends it, so a cookie-authenticated socket must come from an allowed
origin (cross-site WebSocket hijacking is exactly a foreign page riding the cookie). Non-browser
clients may omit Origin; they are accepted only with a token, which a foreign page cannot read.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import validate_host
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.models import TokenUser

from accounts.models import User
from accounts.selectors import user_active

JWT_SUBPROTOCOL = "flame.jwt"


def token_from_scope(scope) -> str | None:
    protocols = scope.get("subprotocols") or []
    if JWT_SUBPROTOCOL in protocols:
        index = protocols.index(JWT_SUBPROTOCOL)
        if index + 1 < len(protocols):
            return protocols[index + 1]
    query = parse_qs(scope.get("query_string", b"").decode())
    return (query.get("token") or [None])[0]


def claimant_for_token(raw: str) -> TokenUser | AnonymousUser:
    """Who a token says it is, if its signature and expiry hold (no database)."""
    try:
        return TokenUser(JWTAuthentication().get_validated_token(raw))
    except (InvalidToken, TokenError):
        return AnonymousUser()


class JwtAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        raw = token_from_scope(scope)
        if raw:
            scope = dict(scope, user=claimant_for_token(raw), auth_method="jwt")
        else:
            scope = dict(scope, auth_method="session")
        return await super().__call__(scope, receive, send)


def socket_user(scope) -> User | None:
    """The socket's user as stored now, workspace loaded; None if they may not connect.

    A token gets simplejwt's checks (user exists, is active, token not revoked by a password
    change); a session user is read again. Synchronous: call it off the event loop.
    """
    claimant = scope.get("user")
    if claimant is None or not claimant.is_authenticated:
        return None
    if scope.get("auth_method") == "jwt" and not _token_honoured(claimant.token):
        return None
    return user_active(user_id=claimant.pk)


def _token_honoured(token) -> bool:
    try:
        JWTAuthentication().get_user(token)
    except (InvalidToken, AuthenticationFailed):
        return False
    return True


def origin_allowed(origin: str | None) -> bool:
    if not origin:
        return False
    parsed = urlsplit(origin)
    if f"{parsed.scheme}://{parsed.netloc}" in settings.CORS_ALLOWED_ORIGINS:
        return True
    return bool(parsed.hostname) and validate_host(parsed.hostname, settings.ALLOWED_HOSTS)


def scope_origin(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            return value.decode("latin1")
    return None


def socket_admissible(scope) -> bool:
    """Origin policy for an authenticated socket (see the module docstring)."""
    origin = scope_origin(scope)
    if origin is not None:
        return origin_allowed(origin)
    return scope.get("auth_method") == "jwt"
