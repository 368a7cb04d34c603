"""Response bodies written piece by piece (the CSV export, the AI chat's server-sent events).

Under WSGI (gunicorn) a generator is sent as it is produced. Under ASGI (daphne) Django would
read a synchronous iterator whole before sending anything, so it is served as an asynchronous
iterator that fetches each next piece on the request's thread (where its database connection
lives): the event loop never waits on the database or a slow upstream.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from itertools import chain

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest

logger = logging.getLogger(__name__)


async def _served_asynchronously(
    first: str, pieces: Iterator[str], what: str
) -> AsyncIterator[str]:
    """Once the 200 has gone out a failure can no longer be reported, and an exception raised
    from here would leave daphne's connection open for good: it is logged and the body ends."""
    next_piece = sync_to_async(next, thread_sensitive=True)
    try:
        yield first
        while (piece := await next_piece(pieces, None)) is not None:
            yield piece
    except Exception:
        logger.exception("%s failed after its first part was sent", what)
    finally:
        # Also when the client went away: the generator is closed on its own thread.
        await sync_to_async(pieces.close, thread_sensitive=True)()


def stream_body(
    request: HttpRequest, pieces: Iterator[str], *, what: str
) -> Iterator[str] | AsyncIterator[str]:
    """``pieces`` as a streaming response's content. The first piece is produced here, so a
    failure before anything was sent is still an ordinary API error."""
    first = next(pieces)
    if isinstance(request, ASGIRequest):
        return _served_asynchronously(first, pieces, what)
    return chain([first], pieces)
