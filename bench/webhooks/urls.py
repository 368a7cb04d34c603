"""The real URLconf plus the floors the webhook ack path is compared against."""

from __future__ import annotations

import os

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from flame.urls import urlpatterns as flame_urlpatterns


@csrf_exempt
def noop(request):
    return JsonResponse({"status": "ok"})


def process(request):
    """Which server process holds this connection (the bench spreads its connections)."""
    return HttpResponse(str(os.getpid()), content_type="text/plain")


@csrf_exempt
def one_insert(request):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_floor_insert (body) VALUES (%s)", [request.body])
    return HttpResponse(b'{"status": "ok"}', content_type="application/json")


urlpatterns = [
    path("bench/noop", noop),
    path("bench/insert", one_insert),
    path("bench/process", process),
    *flame_urlpatterns,
]
