"""WSGI entry point: gunicorn serves HTTP (API, webhooks, pages, admin) in production."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from flame.runtime import startup_objects_frozen

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flame.settings")

application = get_wsgi_application()
# Imported by each gunicorn worker once it has forked: the app is loaded, so freeze it.
startup_objects_frozen()
