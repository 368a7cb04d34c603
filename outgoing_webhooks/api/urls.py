from __future__ import annotations

from flame.api.routers import OptionalSlashRouter
from outgoing_webhooks.api import views

router = OptionalSlashRouter()
router.register("outgoing-webhooks", views.EndpointViewSet, basename="outgoing-webhook")

urlpatterns = router.urls
