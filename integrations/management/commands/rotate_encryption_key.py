"""``manage.py rotate_encryption_key``: re-encrypt every stored credential with the current key.

Rotation: put a new key first in ENCRYPTION_KEYS (keep the old ones after it), deploy, run this
command, then remove the old key. Values still sealed with a removed key cannot be read, so the
command reports what is left on each key.
"""

from __future__ import annotations

from collections import Counter

from django.core.management.base import BaseCommand
from django.db import connection

from flame import crypto
from integrations.models import Integration
from integrations.services import credentials_reencrypt


def _key_ids_in_use() -> Counter:
    table = Integration._meta.db_table
    column = Integration._meta.get_field("credentials").column
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table}")  # noqa: S608 - names from model metadata
        return Counter(crypto.key_id_of(value or "") or "(empty)" for (value,) in cursor.fetchall())


class Command(BaseCommand):
    help = "Re-encrypt integration credentials with the first key of ENCRYPTION_KEYS."

    def handle(self, *args, **options) -> None:
        before = _key_ids_in_use()
        count = credentials_reencrypt()
        after = _key_ids_in_use()
        current = crypto.keyring().current_id
        self.stdout.write(f"Before: {dict(before)}")
        self.stdout.write(f"After:  {dict(after)}")
        self.stdout.write(
            self.style.SUCCESS(f"Re-encrypted {count} integrations with key {current!r}.")
        )
