"""Typed hooks and ports (flame/hooks.py), and that every one the apps declare is wired."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from accounts import hooks as accounts_hooks
from conversations import hooks as conversations_hooks
from flame.hooks import Hook, Port


def test_a_hook_calls_its_receivers_in_order_once_each():
    hook: Hook = Hook("test")
    calls = []

    def first(*, value):
        calls.append(("first", value))

    def second(*, value):
        calls.append(("second", value))

    hook.connect(first)
    hook.connect(second)
    hook.connect(first)  # ready() may run twice: still one call
    hook.send(value=7)

    assert calls == [("first", 7), ("second", 7)]


def test_a_receivers_error_reaches_the_sender():
    hook: Hook = Hook("test")

    def broken(**_):
        raise ValueError("no")

    hook.connect(broken)
    with pytest.raises(ValueError, match="no"):
        hook.send()


def test_an_unanswered_port_is_a_setup_error_and_a_port_has_one_answer():
    port: Port = Port("test")
    with pytest.raises(ImproperlyConfigured, match="No installed app answers test"):
        port.ask()

    port.provide(len)
    assert port.ask("abc") == 3
    with pytest.raises(ImproperlyConfigured, match="already answered"):
        port.provide(str)


@pytest.mark.parametrize(
    ("module", "name"),
    [
        (conversations_hooks, "conversation_resolved"),
        (conversations_hooks, "outbound_message_queued"),
        (conversations_hooks, "agent_replied"),
        (conversations_hooks, "attachment_download_queued"),
        (accounts_hooks, "member_rights_changed"),
        (conversations_hooks, "activity_recorded"),
        (conversations_hooks, "note_added"),
        (conversations_hooks, "customer_messages_stored"),
        (accounts_hooks, "member_available"),
    ],
)
def test_every_declared_hook_has_a_receiver(module, name):
    assert getattr(module, name).receivers


def test_every_declared_port_is_answered():
    ports = [value for value in vars(conversations_hooks).values() if isinstance(value, Port)]

    assert {port.name for port in ports} == {
        "channel_for",
        "customer_address",
        "reply_window",
        "media_limits",
        "message_template",
        "template_choices",
        "assistant_for",
        "assistant_choices",
        "assistant_handles",
    }
    for port in ports:
        assert callable(port.ask), port.name
