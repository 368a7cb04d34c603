"""Replace refresh tokens stored in plain text by their digest (see accounts.tokens)."""

import hashlib

from django.db import migrations

DIGEST_PREFIX = "sha256:"


def hash_plain_tokens(apps, schema_editor):
    OutstandingToken = apps.get_model("token_blacklist", "OutstandingToken")
    plain = OutstandingToken.objects.exclude(token__startswith=DIGEST_PREFIX)
    for record in plain.only("pk", "token").iterator(chunk_size=1000):
        digest = DIGEST_PREFIX + hashlib.sha256(record.token.encode()).hexdigest()
        OutstandingToken.objects.filter(pk=record.pk).update(token=digest)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("token_blacklist", "0013_alter_blacklistedtoken_options_and_more"),
    ]

    operations = [migrations.RunPython(hash_plain_tokens, migrations.RunPython.noop)]
