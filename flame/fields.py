"""Model fields shared by apps."""

from __future__ import annotations

import json
from typing import Any

from django.db import models

from flame import crypto


class EncryptedJSONField(models.TextField):
    """A JSON value stored as AES-GCM ciphertext (flame.crypto), decrypted on load.

    The associated data binds a ciphertext to its model and field, so a value pasted from
    another column does not decrypt. Lookups on the plaintext are impossible by design; keep
    anything you need to query (account ids, routing keys) in plain columns beside it.
    """

    description = "JSON encrypted at rest"

    def contribute_to_class(self, cls, name, *args, **kwargs) -> None:
        super().contribute_to_class(cls, name, *args, **kwargs)
        self._associated_data = f"{cls._meta.label_lower}.{name}".encode()

    def from_db_value(self, value: str | None, expression, connection) -> Any:
        if value is None or value == "":
            return {}
        return json.loads(crypto.decrypt(value, associated_data=self._associated_data))

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith("v1:"):
            return json.loads(crypto.decrypt(value, associated_data=self._associated_data))
        return value if value is not None else {}

    def get_prep_value(self, value: Any) -> str:
        plaintext = json.dumps(value if value is not None else {}, sort_keys=True).encode()
        return crypto.encrypt(plaintext, associated_data=self._associated_data)

    def value_to_string(self, obj) -> str:
        # Serialization (dumpdata) must never emit the plaintext.
        return self.get_prep_value(self.value_from_object(obj))
