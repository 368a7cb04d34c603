from __future__ import annotations

import pytest

from outgoing_webhooks.tests.receiver import running


@pytest.fixture
def local(settings):
    """A receiver on a local port, reachable (private addresses allowed), dispatched at once."""
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = True
    settings.OUTGOING_WEBHOOKS_DISPATCH_LAG_SECONDS = 0
    settings.OUTGOING_WEBHOOKS_READ_TIMEOUT = 0.5
    with running() as receiver:
        yield receiver
