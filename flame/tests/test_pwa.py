"""The installable app as the server sends it: the web manifest (in the language the page asks
for), the service worker (JavaScript at the root, told to store the shell and static files only)
and the offline page it stores (nothing of the signed-in user in it)."""

from __future__ import annotations

import json
import re
import struct

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from accounts.tests.factories import UserFactory

ICONS = [
    {"src": "/static/img/icons/icon-192.png", "sizes": "192x192", "type": "image/png",
     "purpose": "any"},
    {"src": "/static/img/icons/icon-512.png", "sizes": "512x512", "type": "image/png",
     "purpose": "any"},
    {"src": "/static/img/icons/icon-maskable-512.png", "sizes": "512x512", "type": "image/png",
     "purpose": "maskable"},
    {"src": "/static/img/flame.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
]  # fmt: skip
SHELL = [
    "/offline/",
    "/static/css/app.css",
    "/static/img/icons/icon-192.png",
    "/static/img/icons/icon-512.png",
    "/static/img/icons/icon-maskable-512.png",
    "/static/img/flame.svg",
]


def _manifest(client: Client, query: str = "", **headers) -> dict:
    response = client.get(f"/manifest.webmanifest{query}", **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    assert response["Cache-Control"] == "no-cache"
    return json.loads(response.content)


def test_manifest_describes_the_app_in_english(client):
    assert _manifest(client, "?lang=en") == {
        "id": "/inbox/",
        "name": "FLAME Assistant",
        "short_name": "FLAME",
        "description": (
            "Answer WhatsApp, Messenger, Instagram and Telegram customers from one inbox."
        ),
        "lang": "en",
        "dir": "ltr",
        "start_url": "/inbox/",
        "scope": "/",
        "display": "standalone",
        "theme_color": "#ffffff",
        "background_color": "#f6f7f9",
        "icons": ICONS,
        "shortcuts": [
            {"name": "Inbox", "url": "/inbox/"},
            {"name": "Dashboard", "url": "/dashboard/"},
        ],
    }


def test_manifest_speaks_the_language_the_page_names(client):
    # Browsers fetch the manifest without cookies: the page's link says which language.
    manifest = _manifest(client, "?lang=es", HTTP_ACCEPT_LANGUAGE="en")

    assert manifest["lang"] == "es"
    assert manifest["name"] == "FLAME Asistente"
    assert manifest["description"] == (
        "Responde a tus clientes de WhatsApp, Messenger, Instagram y Telegram desde una sola "
        "bandeja de entrada."
    )
    assert manifest["shortcuts"] == [
        {"name": "Bandeja de entrada", "url": "/inbox/"},
        {"name": "Panel", "url": "/dashboard/"},
    ]


@pytest.mark.parametrize("query", ["", "?lang=fr", "?lang=", "?lang=es-<script>"])
def test_manifest_without_a_known_language_follows_the_browser(client, query):
    manifest = _manifest(client, query, HTTP_ACCEPT_LANGUAGE="es")

    assert (manifest["lang"], manifest["shortcuts"][0]["name"]) == ("es", "Bandeja de entrada")


def _png_size(path: str) -> str:
    with open(path, "rb") as image:
        header = image.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", header[16:24])
    return f"{width}x{height}"


def test_every_icon_is_a_static_file_of_the_size_it_claims(client):
    for icon in _manifest(client)["icons"]:
        path = finders.find(icon["src"].removeprefix("/static/"))
        assert path, icon["src"]
        if icon["type"] == "image/png":
            assert _png_size(path) == icon["sizes"], icon["src"]


def _worker_config(client: Client) -> dict:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "no-cache"
    source = response.content.decode()
    return json.loads(re.search(r"^const CONFIG = (\{.*?\n\});$", source, re.M | re.S).group(1))


def test_service_worker_stores_the_shell_and_static_files_only(client):
    config = _worker_config(client)

    assert config["shell"] == SHELL
    assert (config["offline_url"], config["static_url"]) == ("/offline/", "/static/")
    # DEBUG-style storage in tests: unhashed names, so static files come from the network first
    assert config["static_is_immutable"] is False
    assert re.fullmatch(r"[0-9a-f]{16}", config["version"])


def test_service_worker_is_the_same_for_everyone(client, admin_user):
    # Nothing of a user goes into the worker: it outlives the session it was installed in.
    anonymous = client.get("/sw.js").content
    client.force_login(admin_user)

    assert client.get("/sw.js").content == anonymous


def test_offline_page_shows_nothing_of_the_signed_in_user(client, db):
    user = UserFactory(email="carla.private@a.example", name="Carla Privada", language="es")
    client.force_login(user)

    response = client.get("/offline/")

    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="es">' in page
    assert 'data-testid="offline"' in page
    for private in (user.email, user.name, user.workspace.name, "csrf", "<script"):
        assert private not in page, private
    assert "csrftoken" not in response.cookies


@pytest.mark.parametrize("path", ["/manifest.webmanifest", "/sw.js", "/offline/"])
def test_the_app_files_answer_reads_only(client, path):
    assert client.post(path).status_code == 405


def test_pages_link_the_manifest_in_their_language_and_name_the_worker(client, admin_user):
    login = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    admin_user.language = "es"
    admin_user.save(update_fields=["language"])
    client.force_login(admin_user)
    inbox = client.get("/inbox/").content.decode()

    assert '<link rel="manifest" href="/manifest.webmanifest?lang=en">' in login
    assert '<link rel="manifest" href="/manifest.webmanifest?lang=es">' in inbox
    for page in (login, inbox):
        assert '<meta name="flame-service-worker" content="/sw.js">' in page
        assert "/static/js/pwa.js" in page
