from __future__ import annotations

import base64

import pytest
from django.core.exceptions import ImproperlyConfigured

from flame import crypto


@pytest.fixture
def two_keys(settings):
    old, new = crypto.generate_key(), crypto.generate_key()
    settings.ENCRYPTION_KEYS = f"old:{old}"
    return old, new


def test_round_trip_names_the_key(two_keys):
    token = crypto.encrypt(b"EAAG-page-token", associated_data=b"integration:1")

    assert token.startswith("v1:old:")
    assert b"EAAG" not in token.encode()
    assert crypto.decrypt(token, associated_data=b"integration:1") == b"EAAG-page-token"


def test_same_plaintext_encrypts_differently(two_keys):
    assert crypto.encrypt(b"same") != crypto.encrypt(b"same")


def test_moved_or_tampered_ciphertext_fails(two_keys):
    token = crypto.encrypt(b"secret", associated_data=b"integration:1")
    prefix, payload = token.rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(payload))
    raw[-1] ^= 0x01  # one bit of the authentication tag
    flipped = f"{prefix}:{base64.urlsafe_b64encode(bytes(raw)).decode()}"

    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, associated_data=b"integration:2")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(flipped, associated_data=b"integration:1")


def test_old_key_still_decrypts_after_rotation_and_not_after_removal(two_keys, settings):
    old, new = two_keys
    token = crypto.encrypt(b"secret")

    settings.ENCRYPTION_KEYS = f"new:{new},old:{old}"
    assert crypto.decrypt(token) == b"secret"
    assert crypto.encrypt(b"x").startswith("v1:new:")

    settings.ENCRYPTION_KEYS = f"new:{new}"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)


@pytest.mark.parametrize("raw", ["", "nokey", "k1:tooshort", "bad id:" + "A" * 43, "k1:!!!!"])
def test_malformed_keyrings_are_rejected(raw):
    with pytest.raises(ImproperlyConfigured):
        crypto.parse_keys(raw)
