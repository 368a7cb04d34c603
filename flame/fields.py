"""Model fields shared by apps."""

from __future__ import annotations

import json
from typing import Any

from django.db import models

from flame import crypto


def max_length_of(model: type[models.Model], field_name: str) -> int:
    """The declared max_length of ``model.field_name`` (a text column), for checks and cuts that
    must agree with the column."""
    field = model._meta.get_field(field_name)
    max_length = getattr(field, "max_length", None)
    if not isinstance(max_length, int):
        raise TypeError(f"{model.__name__}.{field_name} has no max_length")
    return max_length


class EncryptedJSONField(models.TextField):
    """A JSON value stored as AES-GCM ciphertext (flame.crypto), decrypted on load.

    The associated data binds a ciphertext to its model and field, so a value pasted from
    another column does not decrypt. Lookups on the plaintext are impossible by design; keep
    anything you need to query (account ids, routing keys) in plain columns beside it.
    """

    description = "JSON encrypted at rest"
    # What django-stubs should type it as: the decoded JSON, not the ciphertext's text.
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

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
