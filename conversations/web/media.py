"""Files by signed link: no session, a link that names one file and stops working after
MEDIA_SIGNED_URL_SECONDS (conversations/files.py). The platforms that fetch what we send by URL
(Instagram) use these; people use the members-only API view instead."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from conversations.files import attachment_for_token, file_response


@require_http_methods(["GET", "HEAD"])
def signed_file(request: HttpRequest, token: str) -> HttpResponse:
    return file_response(attachment_for_token(token))
