"""Authenticated encryption for secrets at rest (integration credentials).

AES-256-GCM with a random 96-bit nonce per value. Every ciphertext names the key that made it:
``v1:<key id>:<base64url(nonce || ciphertext+tag)>``. ENCRYPTION_KEYS lists ``id:base64key``
pairs, newest first: new values use the first key, old values decrypt with whichever key they
name, and ``manage.py rotate_encryption_key`` re-encrypts rows so an old key can be dropped.
Associated data binds a value to its row and field, so a ciphertext copied into another row
does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_VERSION = "v1"
_NONCE_BYTES = 12


class DecryptionError(Exception):
    """The value is corrupt, was moved, or its key is no longer configured."""


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: dict[str, bytes]


def parse_keys(raw: str) -> Keyring:
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for item in (part.strip() for part in raw.split(",")):
        key_id, _, encoded = item.partition(":")
        try:
            key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError) as exc:
            raise ImproperlyConfigured(f"ENCRYPTION_KEYS: key {key_id!r} is not base64") from exc
        if not key_id or not key_id.isalnum() or len(key) != 32:
            raise ImproperlyConfigured(
                "ENCRYPTION_KEYS must be comma-separated 'id:base64url(32 random bytes)' pairs"
            )
        keys[key_id] = key
        order.append(key_id)
    if not order:
        raise ImproperlyConfigured("ENCRYPTION_KEYS is empty")
    return Keyring(current_id=order[0], keys=keys)


@cache
def _keyring(raw: str) -> Keyring:
    return parse_keys(raw)


def keyring() -> Keyring:
    return _keyring(settings.ENCRYPTION_KEYS)


def generate_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def encrypt(plaintext: bytes, *, associated_data: bytes = b"") -> str:
    ring = keyring()
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(ring.keys[ring.current_id]).encrypt(nonce, plaintext, associated_data)
    payload = base64.urlsafe_b64encode(nonce + sealed).decode()
    return f"{_VERSION}:{ring.current_id}:{payload}"


def key_id_of(token: str) -> str:
    return token.split(":", 2)[1] if token.count(":") >= 2 else ""


def decrypt(token: str, *, associated_data: bytes = b"") -> bytes:
    version, key_id, payload = ([*token.split(":", 2), "", ""])[:3]
    key = keyring().keys.get(key_id)
    if version != _VERSION or key is None:
        raise DecryptionError(f"no configured key for key id {key_id!r}")
    try:
        raw = base64.urlsafe_b64decode(payload)
        return AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], associated_data)
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise DecryptionError("ciphertext failed authentication") from exc
