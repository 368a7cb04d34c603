"""Refresh tokens whose server-side record never holds the token itself.

simplejwt's blacklist app keeps every issued refresh token in ``OutstandingToken.token`` as
plain text, so a database dump would hand out working sessions. Ours stores a SHA-256 digest
there: enough to recognise a token we issued (and to revoke it), useless to whoever reads the
table. Verification always starts from the signature; the record is only consulted for tokens
that we provably signed, so nothing a caller invents can reach the database as a write.
"""

from __future__ import annotations

import hashlib

from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken, Token
from rest_framework_simplejwt.utils import datetime_from_epoch

DIGEST_PREFIX = "sha256:"


def token_digest(raw: str) -> str:
    return DIGEST_PREFIX + hashlib.sha256(raw.encode()).hexdigest()


class IssuedRefreshToken(RefreshToken):
    """A refresh token recorded by digest; revocation is judged by that record.

    ``check_blacklist`` is left to the caller (``accounts.services``), which loads the record
    by jti *and* digest anyway and needs to tell "revoked" from "never issued".
    """

    def check_blacklist(self) -> None:
        return None

    @classmethod
    def for_user(cls, user) -> IssuedRefreshToken:
        # Token.for_user builds the claims; the blacklist mixin in between would store the
        # plain token, so it is skipped on purpose.
        token = Token.for_user.__func__(cls, user)
        OutstandingToken.objects.create(
            user=user,
            jti=token[api_settings.JTI_CLAIM],
            token=token_digest(str(token)),
            created_at=token.current_time,
            expires_at=datetime_from_epoch(token["exp"]),
        )
        return token

    @property
    def jti(self) -> str:
        return self[api_settings.JTI_CLAIM]
