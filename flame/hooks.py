"""Typed hooks: how a lower app tells the apps built on it that something happened.

The apps form layers (see docs/architecture.md): a lower app never imports a higher one. When
only the lower app knows a moment (a conversation was resolved, an outbound message was queued)
it *sends* a named hook, and the higher apps that care *connect* a receiver to it in their
``AppConfig.ready()``. Unlike Django signals, each hook is declared once, with the exact call
signature its receivers implement (a Protocol that mypy checks at both ends), in the lower
app's ``hooks.py``, which is therefore the list of everything that app announces.

Receivers run synchronously, in the sender's transaction and in connection order; an error in
one propagates to the sender (and rolls its transaction back), so a half-applied change is
never committed. Receivers that do slow or external work register it with
``transaction.on_commit`` themselves.

A *port* is the other direction: a question the lower app asks and exactly one higher app
answers (a channel's rules, an object the lower app cannot load itself).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

from django.core.exceptions import ImproperlyConfigured

Receiver = TypeVar("Receiver", bound=Callable[..., None])
Answer = TypeVar("Answer", bound=Callable[..., Any])


class Hook(Generic[Receiver]):
    """A moment receivers react to; ``send`` has the receivers' own signature."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._receivers: list[Receiver] = []

    def connect(self, receiver: Receiver) -> Receiver:
        """Add ``receiver`` (once, however often ``ready()`` runs)."""
        if receiver not in self._receivers:
            self._receivers.append(receiver)
        return receiver

    @property
    def receivers(self) -> tuple[Receiver, ...]:
        return tuple(self._receivers)

    @property
    def send(self) -> Receiver:
        return cast(Receiver, self._send)

    def _send(self, *args: Any, **kwargs: Any) -> None:
        for receiver in self._receivers:
            receiver(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._receivers)} receiver(s)>"


class Port(Generic[Answer]):
    """A question with exactly one answering app; calling an unanswered port is a setup bug."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._answer: Answer | None = None

    def provide(self, answer: Answer) -> Answer:
        if self._answer is not None and self._answer is not answer:
            raise ImproperlyConfigured(f"{self.name} is already answered by {self._answer!r}")
        self._answer = answer
        return answer

    @property
    def ask(self) -> Answer:
        if self._answer is None:
            raise ImproperlyConfigured(f"No installed app answers {self.name}")
        return self._answer

    def __repr__(self) -> str:
        return f"<Port {self.name}: {'answered' if self._answer else 'unanswered'}>"
