"""Text helpers every app shares: what the database can store, and folded text for search.

Storable text: no NUL characters, no lone surrogates.

PostgreSQL refuses NUL (U+0000) in ``text`` and ``jsonb`` (and ``\\u0000`` inside jsonb), and
psycopg cannot encode a lone surrogate (U+D800-U+DFFF) to UTF-8; either one turns an INSERT
into a server error. JSON's ``\\u0000`` and ``\\ud800`` escapes produce exactly these characters,
so what clients send is refused at the API boundary (``flame.api.parsers``), and what
platforms send is cleaned before it is ingested (``storable``), so one bad message does not
cost the rest of its delivery.

A Python string decoded from UTF-8 or from JSON holds every valid surrogate pair as one code
point, so any surrogate left in a string is a lone one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT_CHARACTER = "\ufffd"
NULL_NOT_ALLOWED = "Null characters are not allowed."


def unstorable_reason(text: str) -> str | None:
    """Why ``text`` cannot be stored (DRF's own wording for CharField), or None."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return NULL_NOT_ALLOWED
    return f"Surrogate characters are not allowed: U+{ord(found.group()):X}."


def strings_in(value: Any) -> Iterator[str]:
    """Every string in a parsed JSON value, dictionary keys included, at any depth.

    A loop rather than recursion: the JSON decoder accepts nesting almost as deep as Python's
    recursion limit, and this runs below the caller's own frames.
    """
    pending = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, str):
            yield current
        elif isinstance(current, dict):
            pending.extend(current.keys())
            pending.extend(current.values())
        elif isinstance(current, list | tuple):
            pending.extend(current)


def storable_text(text: str) -> str:
    """``text`` without NUL characters, lone surrogates replaced by U+FFFD."""
    if _UNSTORABLE.search(text) is None:
        return text
    return re.sub("[\ud800-\udfff]", REPLACEMENT_CHARACTER, text.replace("\x00", ""))


def storable(value: Any) -> Any:
    """A parsed JSON value with every string (keys too) made storable; the rest unchanged.

    Returns ``value`` itself when nothing needs cleaning, which is nearly always.
    """
    if not any(_UNSTORABLE.search(text) for text in strings_in(value)):
        return value
    return _cleaned(value)


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(key): _cleaned(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_cleaned(item) for item in value]
    return value


def fold(text: str) -> str:
    """Lower case without accents: "Envíos" and "envios" become the same word (search and
    knowledge retrieval compare folded text)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))
