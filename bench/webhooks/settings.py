"""Production settings plus two floor views, for the webhook benchmark only."""

from flame.settings import *  # noqa: F403

ROOT_URLCONF = "bench.webhooks.urls"
