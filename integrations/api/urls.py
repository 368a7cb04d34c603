from __future__ import annotations

from django.urls import re_path

from flame.api.routers import OptionalSlashRouter
from integrations import webhooks
from integrations.api import views

router = OptionalSlashRouter()
router.register("integrations", views.IntegrationViewSet, basename="integration")

# The platforms' webhooks, the busiest paths by far: the root URLconf puts them first, so a
# delivery is routed without trying the ninety-odd patterns before ``integrations`` (about a
# tenth of its acknowledgement's CPU).
platform_webhook_urlpatterns = [
    re_path(
        r"^webhooks/telegram/(?P<path_secret>[A-Za-z0-9_-]{16,128})/?$",
        webhooks.telegram_webhook,
        name="webhook-telegram",
    ),
    re_path(
        r"^webhooks/(?P<platform>whatsapp|facebook|instagram)/?$",
        webhooks.meta_webhook,
        name="webhook-meta",
    ),
]

urlpatterns = [
    re_path(r"^integrations/bot-commands/?$", views.BotCommandsView.as_view(), name="bot-commands"),
    re_path(r"^webhooks/stats/?$", views.WebhookStatsView.as_view(), name="webhook-stats"),
    re_path(r"^webhooks/retry/?$", views.WebhookRetryView.as_view(), name="webhook-retry"),
    re_path(
        r"^webhooks/sandbox/(?P<integration_id>[0-9a-fA-F-]{32,36})/?$",
        views.SandboxWebhookView.as_view(),
        name="webhook-sandbox",
    ),
    *router.urls,
]
