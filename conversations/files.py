"""Serving message files: only to members who see the conversation, or by a short-lived signed
link (what Instagram fetches the files we send from), never from a public URL.

Every answer names the file in ``Content-Disposition`` (inline only for the images, audio and
video the thread plays; everything else downloads), carries the type read from its bytes and
``X-Content-Type-Options: nosniff``, and a sandboxing CSP, so an uploaded file can never run
as a page of this site.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.http import FileResponse, Http404
from django.urls import reverse

from conversations.models import Attachment

SIGNING_SALT = "flame.attachment.link"
# Types a browser shows or plays without running anything: served inline, the rest downloads.
INLINE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "video/mp4",
        "video/webm",
        "video/quicktime",
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
        "audio/wav",
        "audio/webm",
    }
)


def file_response(attachment: Attachment, *, download: bool = False) -> FileResponse:
    if not attachment.is_ready:
        raise Http404("The file is not available.")
    inline = attachment.mime_type in INLINE_TYPES and not download
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not inline,
        filename=attachment.file_name or f"{attachment.kind}-{attachment.pk}",
        content_type=attachment.mime_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


def signed_path(attachment: Attachment) -> str:
    token = signing.dumps(str(attachment.pk), salt=SIGNING_SALT, compress=False)
    return reverse("attachment-signed", kwargs={"token": token})


def signed_url(attachment: Attachment) -> str:
    """A link anyone may fetch the file from for MEDIA_SIGNED_URL_SECONDS (Instagram's servers
    fetch the files we send)."""
    return f"{settings.PUBLIC_BASE_URL}{signed_path(attachment)}"


def attachment_for_token(token: str) -> Attachment:
    try:
        attachment_id = signing.loads(
            token, salt=SIGNING_SALT, max_age=settings.MEDIA_SIGNED_URL_SECONDS
        )
    except signing.BadSignature as exc:  # includes SignatureExpired
        raise Http404("The link is not valid.") from exc
    attachment = Attachment.objects.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404("The file is not available.")
    return attachment
