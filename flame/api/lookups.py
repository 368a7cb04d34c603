"""Resolving ids that arrive in request bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flame.exceptions import InvalidInput, NotFoundError


def related_or_400(getter: Callable[..., Any], field: str, **kwargs: Any) -> Any:
    """Resolve a body id through a scoped selector; unknown or another workspace's → 400.

    An id in the URL that is not yours is a 404; one in the body is invalid input for ``field``.
    """
    try:
        return getter(**kwargs)
    except NotFoundError as exc:
        raise InvalidInput("Invalid input.", details={field: ["Not found."]}) from exc
