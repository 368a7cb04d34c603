"""WSGI entry point: gunicorn serves HTTP (API, webhooks, pages, admin) in production."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flame.settings")

application = get_wsgi_application()
