"""Fixtures of the billing tests: the providers' stand-ins, configured as this server's."""

from __future__ import annotations

import pytest
from django.test import Client

from assistants.tests.conftest import openai_server  # noqa: F401 - the OpenAI stand-in
from billing.tests import stand_ins
from integrations.tests.fake_api import FakeApi


@pytest.fixture(autouse=True)
def _no_payment_provider(settings):
    """No provider is set up unless a test starts its stand-in, whatever the environment says."""
    for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "LEMONSQUEEZY_API_KEY"):
        setattr(settings, name, "")
    settings.LEMONSQUEEZY_WEBHOOK_SECRET = ""
    settings.LEMONSQUEEZY_STORE_ID = ""
    for plan in stand_ins.STRIPE_PRICES:
        setattr(settings, f"STRIPE_PRICE_{plan.upper()}", "")
        setattr(settings, f"LEMONSQUEEZY_VARIANT_{plan.upper()}", "")
    settings.BILLING_MAX_NETWORK_RETRIES = 0
    settings.BILLING_GRACE_DAYS = 7
    settings.PUBLIC_BASE_URL = "https://flame.example"


@pytest.fixture
def stripe_api(settings):
    api = FakeApi().start()
    settings.STRIPE_SECRET_KEY = stand_ins.STRIPE_KEY
    settings.STRIPE_WEBHOOK_SECRET = stand_ins.STRIPE_SECRET
    settings.STRIPE_API_BASE = api.base_url
    for plan, price in stand_ins.STRIPE_PRICES.items():
        setattr(settings, f"STRIPE_PRICE_{plan.upper()}", price)
    yield api
    api.stop()


@pytest.fixture
def lemonsqueezy_api(settings):
    api = FakeApi().start()
    settings.LEMONSQUEEZY_API_KEY = stand_ins.LS_KEY
    settings.LEMONSQUEEZY_WEBHOOK_SECRET = stand_ins.LS_SECRET
    settings.LEMONSQUEEZY_API_BASE = api.base_url
    settings.LEMONSQUEEZY_STORE_ID = stand_ins.LS_STORE
    for plan, variant in stand_ins.LS_VARIANTS.items():
        setattr(settings, f"LEMONSQUEEZY_VARIANT_{plan.upper()}", variant)
    yield api
    api.stop()


@pytest.fixture
def provider_client() -> Client:
    """What a provider's servers are: an anonymous client without cookies or CSRF token."""
    return Client(enforce_csrf_checks=True)
