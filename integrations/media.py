"""Customers' files: downloaded on the ``media`` queue right after ingestion, kept in storage.

Ingestion stores each message with ``pending`` attachments (the platform's media id, file_id or
link) and queues one download per file once it commits, so ingestion never waits on a CDN.
A download asks the channel's provider where the file is now (``locate_media``: WhatsApp
``GET /{media-id}``, Telegram ``getFile``, the Messenger/Instagram link itself), fetches it with
explicit timeouts and a size cap, checks the platform's SHA-256, and hands the bytes to the
core, which reads their type from the bytes and writes them through Django's storage API.

Failures are sorted like sends: a 5xx, a throttle, a cut connection or a renewable link that
was refused are tried again with backoff, up to MEDIA_DOWNLOAD_MAX_ATTEMPTS; a file too big, of
the wrong type, or behind an expired link fails at once. A failed download shows on the
message with its reason and can be retried (API, inbox, admin).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import IO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from conversations.media import RefusedFile
from conversations.models import Attachment
from conversations.services import (
    attachment_claim_download,
    attachment_download_failed,
    attachment_store_download,
    attachments_pending,
)
from integrations.delivery import backoff
from integrations.providers import base, provider_client
from integrations.providers.http import fetch_file

logger = logging.getLogger(__name__)

# A pending download older than this has lost its task (broker down, worker killed).
STALE_DOWNLOAD = timedelta(minutes=15)


@dataclass(frozen=True)
class Outcome:
    status: str  # ready | retrying | failed | skipped
    retry_in: float | None = None


def download_schedule(*, attachment: Attachment) -> None:
    """Queue the download once the attachment's row is committed (a task that ran earlier
    would not find it); also ``conversations.hooks.attachment_download_queued``."""
    from integrations.tasks import download_attachment_task

    attachment_id = str(attachment.pk)
    transaction.on_commit(lambda: download_attachment_task.delay(attachment_id), robust=True)


def downloads_schedule(*, attachments: list[Attachment]) -> None:
    for attachment in attachments:
        download_schedule(attachment=attachment)


def _digest_matches(expected: str, content: IO[bytes]) -> bool:
    """WhatsApp announces SHA-256 digests as hex (Graph) or base64 (webhooks): either fits."""
    digest = hashlib.sha256()
    content.seek(0)
    for chunk in iter(lambda: content.read(1024 * 1024), b""):
        digest.update(chunk)
    content.seek(0)
    try:
        announced = base64.b64decode(expected, validate=True)
    except (binascii.Error, ValueError):
        announced = b""
    return expected.lower() == digest.hexdigest() or announced == digest.digest()


def _failed(attachment: Attachment, error: base.MediaError) -> Outcome:
    final = not error.retryable or attachment.attempts >= settings.MEDIA_DOWNLOAD_MAX_ATTEMPTS
    attachment_download_failed(
        attachment=attachment, code=error.code, reason=error.reason, final=final
    )
    if final:
        logger.info("Download of attachment %s failed: %s", attachment.pk, error.code)
        return Outcome(status="failed")
    return Outcome(status="retrying", retry_in=backoff(attachment.attempts))


def _fetch(attachment: Attachment) -> tuple[base.MediaLocation, IO[bytes]]:
    integration = attachment.message.integration
    client = provider_client(integration.platform) if integration else None
    if not isinstance(client, base.DownloadsMedia):
        raise base.MediaError("This channel does not provide files.", code="unsupported")
    location = client.locate_media(integration=integration, attachment=attachment)
    downloaded = fetch_file(location, max_bytes=settings.MEDIA_DOWNLOAD_MAX_BYTES)
    if location.sha256 and not _digest_matches(location.sha256, downloaded.content):
        downloaded.content.close()
        raise base.MediaError(
            "The file did not match the platform's checksum.", code="checksum", retryable=True
        )
    declared = location.mime_type or attachment.mime_type or downloaded.content_type
    return replace(location, mime_type=declared), downloaded.content


def attachment_download(*, attachment_id: str) -> Outcome:
    """Fetch one pending file and keep it; what to do next is in the outcome."""
    attachment = attachment_claim_download(attachment_id=attachment_id)
    if attachment is None:
        return Outcome(status="skipped")  # done, purged or given up meanwhile
    try:
        location, content = _fetch(attachment)
    except base.MediaError as error:
        return _failed(attachment, error)
    with content:
        try:
            kept = attachment_store_download(
                attachment=attachment,
                content=content,
                declared=location.mime_type.partition(";")[0].strip(),
                file_name=attachment.file_name or location.file_name,
            )
        except RefusedFile as refused:
            return _failed(attachment, base.MediaError(refused.reason, code=refused.code))
    return Outcome(status="ready" if kept else "skipped")


def attachment_downloads_sweep(*, older_than: timedelta = STALE_DOWNLOAD) -> int:
    """Queue again the downloads nobody is working on (their task was lost)."""
    from integrations.tasks import download_attachment_task

    stale = attachments_pending().filter(created_at__lt=timezone.now() - older_than)
    ids = [str(pk) for pk in stale.values_list("pk", flat=True)[:500]]
    for attachment_id in ids:
        download_attachment_task.delay(attachment_id)
    return len(ids)
