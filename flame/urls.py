"""Root URLconf. API paths accept an optional trailing slash (see docs/architecture.md)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from billing import admin as billing_admin
from billing import monitoring
from conversations.web import media
from flame import pwa
from flame.health import health
from integrations.api.urls import platform_webhook_urlpatterns

handler400 = "flame.views.bad_request"
handler403 = "flame.views.permission_denied"
handler404 = "flame.views.page_not_found"
handler500 = "flame.views.server_error"

urlpatterns = [
    path("api/", include(platform_webhook_urlpatterns)),
    re_path(r"^health/?$", health, name="health"),
    # Prometheus (token or allow-list) and the operators' metrics page (staff, before admin's
    # own catch-all).
    re_path(r"^metrics/?$", monitoring.metrics_view, name="metrics"),
    path("admin/metrics/", admin.site.admin_view(billing_admin.metrics_view), name="admin-metrics"),
    path("admin/", admin.site.urls),
    re_path(r"^api/schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(
        r"^api/docs/?$", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"
    ),
    path("api/", include("accounts.api.urls")),
    path("api/", include("conversations.api.urls")),
    path("api/", include("assistants.api.urls")),
    path("api/", include("satisfaction.api.urls")),
    path("api/", include("workbench.api.urls")),
    path("api/", include("integrations.api.urls")),
    path("api/", include("outgoing_webhooks.api.urls")),
    path("api/", include("analytics.api.urls")),
    path("api/", include("billing.api.urls")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    # Short-lived signed links to message files (what Instagram fetches the files we send from).
    path("media/s/<str:token>/", media.signed_file, name="attachment-signed"),
    path("inbox/", include("conversations.web.urls")),
    path("dashboard/", include("analytics.web.urls")),
    path("settings/assistants/", include("assistants.web.urls")),
    path("settings/integrations/", include("integrations.web.urls")),
    path("settings/webhooks/", include("outgoing_webhooks.web.urls")),
    path("settings/", include("workbench.web.urls")),
    path("settings/", include("conversations.web.settings_urls")),
    path("settings/billing/", include("billing.web.urls")),
    path("", include("accounts.web.urls")),
]

# The installable app: at the root, so the service worker's scope covers every page.
urlpatterns += [
    path("manifest.webmanifest", pwa.manifest, name="pwa-manifest"),
    path("sw.js", pwa.service_worker, name="pwa-service-worker"),
    path("offline/", pwa.offline, name="pwa-offline"),
]
