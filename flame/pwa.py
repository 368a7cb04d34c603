"""The installable app: its web manifest, its service worker and the page the worker shows
offline. Served from the site's root so the worker's scope covers every page."""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, pgettext
from django.views.decorators.http import require_safe

THEME_COLOR = "#ffffff"
BACKGROUND_COLOR = "#f6f7f9"
ICONS = (
    ("img/icons/icon-192.png", "192x192", "image/png", "any"),
    ("img/icons/icon-512.png", "512x512", "image/png", "any"),
    ("img/icons/icon-maskable-512.png", "512x512", "image/png", "maskable"),
    ("img/flame.svg", "any", "image/svg+xml", "any"),
)


def _language(request: HttpRequest) -> str:
    """The page names its language in the manifest's address (``?lang=es``): browsers fetch the
    manifest without cookies, so the session cannot say which language its user reads."""
    requested = request.GET.get("lang", "")
    if requested in dict(settings.LANGUAGES):
        return requested
    return translation.get_language()


def _manifest_body(language: str) -> dict:
    with translation.override(language):
        return {
            "id": reverse("inbox"),
            "name": pgettext("app name", "FLAME Assistant"),
            "short_name": "FLAME",
            "description": gettext(
                "Answer WhatsApp, Messenger, Instagram and Telegram customers from one inbox."
            ),
            "lang": language,
            "dir": "rtl" if translation.get_language_bidi() else "ltr",
            "start_url": reverse("inbox"),
            "scope": "/",
            "display": "standalone",
            "theme_color": THEME_COLOR,
            "background_color": BACKGROUND_COLOR,
            "icons": [
                {"src": static(path), "sizes": sizes, "type": kind, "purpose": purpose}
                for path, sizes, kind, purpose in ICONS
            ],
            "shortcuts": [
                {"name": gettext("Inbox"), "url": reverse("inbox")},
                {"name": gettext("Dashboard"), "url": reverse("dashboard")},
            ],
        }


@require_safe
def manifest(request: HttpRequest) -> JsonResponse:
    language = _language(request)
    response = JsonResponse(_manifest_body(language), content_type="application/manifest+json")
    response["Content-Language"] = language
    response["Cache-Control"] = "no-cache"
    return response


def _shell() -> list[str]:
    """What the worker stores when it installs: enough to open the app and say it is offline."""
    paths = ["css/app.css", *(path for path, _sizes, _kind, _purpose in ICONS)]
    # The cache refuses a list that names one file twice.
    return [reverse("pwa-offline"), *dict.fromkeys(static(path) for path in paths)]


def _worker_config() -> dict:
    shell = _shell()
    return {
        # Hashed static names change on every deploy that changes a file; so does this version,
        # and with it the worker's bytes: browsers install the new worker, which drops old caches.
        "version": hashlib.sha256(json.dumps(shell).encode()).hexdigest()[:16],
        "shell": shell,
        "offline_url": reverse("pwa-offline"),
        "static_url": settings.STATIC_URL,
        # Hashed names never change content, so a stored copy can answer first; unhashed ones
        # (DEBUG) must come from the network, or an edited file would hide behind the old copy.
        "static_is_immutable": isinstance(staticfiles_storage, ManifestFilesMixin),
        "start_url": reverse("inbox"),
        "icon": static("img/icons/icon-192.png"),
    }


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    source = render_to_string(
        "pwa/service-worker.js", {"config": json.dumps(_worker_config(), indent=2)}
    )
    response = HttpResponse(source, content_type="text/javascript; charset=utf-8")
    # Browsers compare the worker's bytes on each visit; an HTTP-cached copy would delay updates.
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def offline(request: HttpRequest) -> HttpResponse:
    """The page the worker stores and shows when a page cannot be reached. It is kept in the
    browser for whoever opens the app next, so it shows nothing of the signed-in user."""
    return render(request, "pwa/offline.html")
