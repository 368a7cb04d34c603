"""Accent- and case-insensitive search, the same rule on PostgreSQL and SQLite.

Text is compared *folded*: lower case, accents removed, so "envio" finds "envío" and "ENVÍO".
Both backends call one SQL function, ``flame_fold(text)``:

- PostgreSQL: ``lower(unaccent(text))``, an IMMUTABLE wrapper created by migration 0005 around
  the ``unaccent`` extension (whose own function is only STABLE), so expression indexes can use
  it — the GIN full-text index over message text and the trigram index over each contact's
  name, phone and e-mail.
- SQLite: the same name is registered on every connection (``register_sqlite_functions``),
  implemented by ``fold``.

Search terms are folded in Python with the same ``fold`` before they reach the database.
"""

from __future__ import annotations

import re

from django.db.models import Exists, F, Func, Q, TextField
from django.db.models.lookups import Contains

from flame.text import fold

FOLD_FUNCTION = "flame_fold"
MAX_TERMS = 8
CONTACT_FIELDS = ("name", "phone", "email")


class Fold(Func):
    function = FOLD_FUNCTION
    output_field = TextField()


class FoldedContactText(Func):
    """A contact's name, phone and e-mail as one folded text (what its trigram index holds).

    A fixed template, not ``Concat``: the query must spell exactly the indexed expression.
    """

    template = f"{FOLD_FUNCTION}(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()

    def __init__(self, prefix: str = "") -> None:
        super().__init__(*(F(f"{prefix}{field}") for field in CONTACT_FIELDS))


class ExistsRowByRow(Exists):
    """EXISTS that PostgreSQL checks for each outer row as it goes, never by hashing the whole
    subquery first. It drops a constant LIMIT inside EXISTS and may then hash every match (a
    third of a million messages for a common word), but it cannot with an OFFSET there."""

    template = "EXISTS(%(subquery)s OFFSET 0)"


def search_terms(text: str) -> list[str]:
    """The folded words of a search box, at most MAX_TERMS."""
    return re.findall(r"\w+", fold(text), flags=re.UNICODE)[:MAX_TERMS]


def contains_every_term(expression, terms: list[str]) -> Q:
    """``expression`` (already folded) contains each of the (folded) terms."""
    condition = Q()
    for term in terms:
        condition &= Q(Contains(expression, term))
    return condition


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: SQLite gets ``flame_fold`` from Python."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(FOLD_FUNCTION, 1, _fold_or_null, deterministic=True)


def _fold_or_null(value):
    return None if value is None else fold(str(value))
