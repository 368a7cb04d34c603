"""The CSV export served over ASGI (daphne, as in development) and WSGI (gunicorn, as in
production): the same rows, streamed in pieces, and an answer every time.

A synchronous generator behind a StreamingHttpResponse is read whole into memory under ASGI,
and an exception raised from it after the 200 has gone out leaves daphne's connection open for
good (the failing edge-date export never answered).
"""

from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.request

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from accounts.services import tokens_for
from analytics.api.views import EXPORT_ROWS_PER_CHUNK
from analytics.selectors import EXPORT_COLUMNS
from analytics.tests.helpers import local
from conversations.models import Conversation
from conversations.tests.factories import ContactFactory
from flame.testing import live_daphne

URL = "/api/analytics/export.csv"
WINDOW = {"from": "2026-11-15", "to": "2026-11-16"}
ROWS = 2 * EXPORT_ROWS_PER_CHUNK + 200  # three pieces: header and 499 rows, 500, 201


def _conversations(workspace, count: int) -> None:
    contact = ContactFactory(workspace=workspace, name="Ana")
    Conversation.objects.bulk_create(
        Conversation(
            workspace=workspace,
            contact=contact,
            platform="sandbox",
            status=Conversation.Status.RESOLVED,
            created_at=local("2026-11-15", 9, second=index % 60),
            last_message_at=local("2026-11-15", 9),
        )
        for index in range(count)
    )


def _rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode())))


def _wsgi_export(client) -> bytes:
    response = client.get(URL, WINDOW)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


@pytest.mark.django_db
def test_wsgi_export_comes_in_pieces_of_rows(admin_client, workspace):
    _conversations(workspace, ROWS)

    response = admin_client.get(URL, WINDOW)
    pieces = list(response.streaming_content)

    assert [len(_rows(piece)) for piece in pieces] == [EXPORT_ROWS_PER_CHUNK, 500, 201]
    assert _rows(b"".join(pieces))[0] == list(EXPORT_COLUMNS)


@pytest.mark.django_db
def test_asgi_export_streams_the_same_rows_in_pieces(admin_client, admin_user, workspace):
    _conversations(workspace, ROWS)
    headers = {"Authorization": f"Bearer {tokens_for(admin_user)['access']}"}

    async def export():
        response = await AsyncClient().get(URL, WINDOW, headers=headers)
        return response, [piece async for piece in response.streaming_content]

    # async_to_sync: the view's thread-sensitive code runs on this thread, in this test's
    # database transaction, as it would on the request's thread under daphne.
    response, pieces = async_to_sync(export)()

    assert response.status_code == 200
    assert response.is_async
    assert [len(_rows(piece)) for piece in pieces] == [EXPORT_ROWS_PER_CHUNK, 500, 201]
    assert b"".join(pieces) == _wsgi_export(admin_client)


# --- a real daphne ------------------------------------------------------------------------------


def _get(url: str, token: str, timeout: float = 20):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_export_over_daphne_answers_with_every_row(admin_client, admin_user, workspace):
    _conversations(workspace, ROWS)
    token = tokens_for(admin_user)["access"]

    with live_daphne(RATELIMIT_ENABLE="0") as base:
        status, headers, body = _get(f"{base}{URL}?from=2026-11-15&to=2026-11-16", token)

    assert status == 200
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    assert len(_rows(body)) == ROWS + 1
    assert body == _wsgi_export(admin_client)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_export_over_daphne_with_an_edge_window_is_answered_and_the_server_goes_on(
    admin_user, workspace
):
    _conversations(workspace, 3)
    token = tokens_for(admin_user)["access"]

    with live_daphne(RATELIMIT_ENABLE="0") as base:
        refused = _get(f"{base}{URL}?to=9999-12-31", token, timeout=10)
        after = _get(f"{base}{URL}?from=2026-11-15&to=2026-11-16", token, timeout=10)

    status, headers, body = refused
    assert (status, headers["Content-Type"]) == (400, "application/json")
    assert json.loads(body)["error"]["details"] == {
        "to": ["Must be between 2000-01-01 and 2100-12-31."]
    }
    assert after[0] == 200
    assert len(_rows(after[2])) == 4
