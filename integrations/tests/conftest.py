from __future__ import annotations

import hashlib
import hmac

import pytest

from integrations.tests.fake_api import FakeApi


@pytest.fixture
def fake_api(settings):
    """Graph API and Telegram Bot API stand-in; provider base URLs point at it."""
    api = FakeApi().start()
    settings.GRAPH_API_BASE_URL = api.base_url
    settings.TELEGRAM_API_BASE_URL = api.base_url
    settings.PROVIDER_CONNECT_TIMEOUT = 2.0
    settings.PROVIDER_READ_TIMEOUT = 1.0
    yield api
    api.stop()


def meta_signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
