"""API keys: the secret's format, and what each scope lets a key reach.

A secret is ``flm_`` + 40 random URL-safe characters + a 12-character tag, an HMAC of the
random part under ``SECRET_KEY``. The tag lets the anonymous rate limit (``flame.middleware``)
tell a key we issued from ``X-Api-Key: anything`` without a query, as the signature of a JWT
does; whether the key still works (revoked, expired, its admin) is the database's answer, in
``accounts.api.authentication``. After a ``SECRET_KEY`` rotation (without
``SECRET_KEY_FALLBACKS``) keys keep working; their calls are only counted as anonymous too.

Scopes are checked on the request's method and path, before any view runs, so an endpoint
added later is closed to keys until it is placed here: a write under an API area not listed in
``_AREAS`` needs a scope no key has.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import ApiKey

PREFIX = "flm_"
_RANDOM_CHARS = 40  # secrets.token_urlsafe(30): 240 bits
_TAG_CHARS = 12
SECRET_LENGTH = len(PREFIX) + _RANDOM_CHARS + _TAG_CHARS
# What the list shows of a key: enough to recognise it, far too little to use it.
SHOWN_PREFIX_CHARS = len(PREFIX) + 8

Scope = ApiKey.Scope
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# API areas (the first segment after /api/) a key never reaches, whatever its scopes: keys do
# not make keys, a key is not a person (sign-in, profile, password, availability, personal
# notifications and notices), billing and operators' endpoints, and the platforms' webhooks.
_NEVER = frozenset(
    {"api-keys", "auth", "payments", "admin", "notifications", "notices", "webhooks"}
)
# area -> (scope to read it, scope to write it); None: no key may.
_AREAS: dict[str, tuple[str | None, str | None]] = {
    "conversations": (Scope.READ, Scope.CONVERSATIONS_WRITE),
    "attachments": (Scope.READ, Scope.CONVERSATIONS_WRITE),
    "contacts": (Scope.READ, Scope.CONTACTS_WRITE),
    "contact-merges": (Scope.READ, Scope.CONTACTS_WRITE),
    "audit-log": (Scope.AUDIT_READ, None),
    "outgoing-webhooks": (Scope.WEBHOOKS_ADMIN, Scope.WEBHOOKS_ADMIN),
    # A private calendar's address carries its own secret: shown to signed-in admins only.
    "holiday-feeds": (None, None),
}
# Any other area: readable with ``read``, never written (settings, members, channels,
# assistants, tags and the like stay with people signed in as admins).
_OTHER_AREAS: tuple[str | None, str | None] = (Scope.READ, None)


def _tag(random_part: str, secret_key: str) -> str:
    mac = salted_hmac("flame.api-key", random_part, secret=secret_key, algorithm="sha256")
    return mac.hexdigest()[:_TAG_CHARS]


def new_secret() -> str:
    random_part = secrets.token_urlsafe(30)
    return f"{PREFIX}{random_part}{_tag(random_part, settings.SECRET_KEY)}"


def shown_prefix(secret: str) -> str:
    return secret[:SHOWN_PREFIX_CHARS]


def is_issued_by_us(secret: str) -> bool:
    """Whether ``secret`` carries our tag (no database): see the module's docstring."""
    if len(secret) != SECRET_LENGTH or not secret.startswith(PREFIX):
        return False
    random_part, tag = secret[len(PREFIX) : -_TAG_CHARS], secret[-_TAG_CHARS:]
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(constant_time_compare(tag, _tag(random_part, key)) for key in keys)


def presented_secret(headers) -> str | None:
    """The key a request presents: ``X-Api-Key`` (present but empty is a key that is not
    valid, never "no key"), or a bearer credential that looks like one (any other bearer
    credential is a JWT, for the JWT authenticator)."""
    explicit = headers.get("X-Api-Key")
    if explicit is not None:
        return explicit.strip()
    scheme, _, credential = headers.get("Authorization", "").partition(" ")
    credential = credential.strip()
    if scheme.lower() == "bearer" and credential.startswith(PREFIX):
        return credential
    return None


def required_scope(method: str, path: str) -> str | None:
    """The scope a key needs for ``method`` on ``path``; None when no key may at all."""
    parts = path.split("/")
    area = parts[2] if len(parts) > 2 and parts[1] == "api" else ""
    if not area or area in _NEVER:
        return None
    read_scope, write_scope = _AREAS.get(area, _OTHER_AREAS)
    return read_scope if method.upper() in READ_METHODS else write_scope
