"""Root URLconf. API paths accept an optional trailing slash (see docs/architecture.md)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from flame.health import health

handler400 = "flame.views.bad_request"
handler403 = "flame.views.permission_denied"
handler404 = "flame.views.page_not_found"
handler500 = "flame.views.server_error"

urlpatterns = [
    re_path(r"^health/?$", health, name="health"),
    path("admin/", admin.site.urls),
    re_path(r"^api/schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(
        r"^api/docs/?$", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"
    ),
    path("api/", include("accounts.api.urls")),
    path("api/", include("conversations.api.urls")),
    path("api/", include("assistants.api.urls")),
    path("api/", include("satisfaction.api.urls")),
    path("api/", include("integrations.api.urls")),
    path("api/", include("analytics.api.urls")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("inbox/", include("conversations.web.urls")),
    path("dashboard/", include("analytics.web.urls")),
    path("settings/assistants/", include("assistants.web.urls")),
    path("settings/integrations/", include("integrations.web.urls")),
    path("", include("accounts.web.urls")),
]
