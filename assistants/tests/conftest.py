"""Fixtures of the assistants tests: deterministic AI settings and the fake OpenAI server."""

from __future__ import annotations

import pytest

from assistants.tests import fake_openai


@pytest.fixture(autouse=True)
def _ai_defaults(settings) -> None:
    # The local provider unless a test starts the fake server; fixed quiet periods whatever
    # the environment says, so the same assertions hold on every setup.
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = ""
    settings.OPENAI_MODEL = "gpt-4o-mini"
    settings.AUTO_REPLY_QUIET_SECONDS = 4
    settings.AI_ANALYSIS_DEBOUNCE_SECONDS = 10
    settings.KNOWLEDGE_MATCH_THRESHOLD = 0.5


@pytest.fixture
def openai_server(settings):
    """The fake OpenAI-compatible API, configured as the provider (no client retries)."""
    server, thread = fake_openai.start()
    settings.OPENAI_API_KEY = "sk-test-key"
    settings.OPENAI_BASE_URL = server.base_url
    settings.OPENAI_TIMEOUT_SECONDS = 2.0
    settings.OPENAI_MAX_RETRIES = 0
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
