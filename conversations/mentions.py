"""``@name`` mentions in a private note: which members a note names.

A member is named by ``@`` followed by their full name or by the part of their e-mail address
before the ``@`` (what the composer's autocomplete inserts, and what people type), ignoring
case, and ending where the name ends (a space, punctuation or the end of the note). Longer
names win where two overlap, so "@Ana María" is Ana María even when a colleague is called Ana.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_END = r"(?=$|[\s.,;:!?)\]}'\"¡¿])"


def handles(member: Any) -> list[str]:
    """How ``member`` can be mentioned (folded)."""
    names = [member.name.strip(), member.email.split("@", 1)[0]]
    return [name.casefold() for name in names if name.strip()]


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def mentioned(text: str, members: Iterable[Any]) -> list[Any]:
    """The members ``text`` mentions, in the order they first appear."""
    folded = text.casefold()
    candidates = sorted(
        ((handle, member) for member in members for handle in handles(member)),
        key=lambda pair: -len(pair[0]),
    )
    taken: list[tuple[int, int]] = []
    found: dict[Any, tuple[int, Any]] = {}
    for handle, member in candidates:
        for match in re.finditer("@" + re.escape(handle) + _END, folded):
            if _overlaps(match.span(), taken):
                continue
            taken.append(match.span())
            first = found.get(member.pk)
            if first is None or match.start() < first[0]:
                found[member.pk] = (match.start(), member)
    return [member for _start, member in sorted(found.values(), key=lambda item: item[0])]
