"""How two contacts are recognised as one customer: the same phone number or e-mail address.

A phone number is compared by its *key*: the number without the characters people format it
with (spaces, dashes, dots, slashes, brackets, the leading +), so "+52 1 55-1234-5678" and
"5215512345678" (how WhatsApp reports it) are one number. Only keys of at least
``MIN_PHONE_DIGITS`` digits and nothing else count: an empty phone, a short code or a note such
as "call after 5" never matches anything. E-mail addresses are compared in lower case.

Both keys are plain SQL expressions (``replace`` and ``lower``, immutable on PostgreSQL and
present in SQLite), indexed per workspace by expression indexes on ``Contact``; a query spells
exactly the indexed expression, so looking up one contact's duplicates is an index probe.
"""

from __future__ import annotations

from django.db.models import Expression, F, Q, Value
from django.db.models.functions import Lower, Replace

MIN_PHONE_DIGITS = 7
FORMATTING = (" ", "-", ".", "/", "(", ")", "+")
PHONE_KEY_PATTERN = rf"^[0-9]{{{MIN_PHONE_DIGITS},}}$"


def phone_key(field: str = "phone") -> Expression:
    expression: Expression = F(field)
    for character in FORMATTING:
        expression = Replace(expression, Value(character), Value(""))
    return expression


def email_key(field: str = "email") -> Expression:
    return Lower(F(field))


def usable_phone_key(name: str = "phone_key") -> Q:
    """An annotated phone key that identifies someone (digits only, long enough)."""
    return Q(**{f"{name}__regex": PHONE_KEY_PATTERN})


def usable_email_key(name: str = "email_key") -> Q:
    return ~Q(**{name: ""})
