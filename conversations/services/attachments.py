"""Files of messages: stored from channels and agents, kept private, purged on deletion.

Inbound files arrive as ``pending`` rows beside their message (the platform's handle or link
only); integrations downloads them on its ``media`` queue and hands the bytes here, where their
type is read from the bytes themselves (``conversations.media``) and they are written through
Django's storage API. Storage writes happen outside database transactions (on S3 they are
network calls); a row that changed meanwhile (the customer deleted the message) gets no file,
and the bytes just written are removed again.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.files.storage import Storage
from django.db import transaction
from django.db.models import F, FileField, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from conversations import hooks
from conversations.media import HEAD_BYTES, RefusedFile, human_size, kind_of, mime_type_of, sniff
from conversations.models import Attachment, Conversation, Message, attachment_path
from conversations.services.access import ensure_can_act
from conversations.services.events import message_updated
from conversations.types import AttachmentKind, InboundAttachment, MediaLimit, Platform
from flame.exceptions import ConflictError, InvalidInput

# Message type of a message carrying one file of each kind.
MESSAGE_TYPES: dict[str, str] = {
    AttachmentKind.IMAGE: Message.Type.IMAGE,
    AttachmentKind.VIDEO: Message.Type.VIDEO,
    AttachmentKind.AUDIO: Message.Type.AUDIO,
    AttachmentKind.DOCUMENT: Message.Type.FILE,
}
KINDS: dict[str, str] = {message_type: kind for kind, message_type in MESSAGE_TYPES.items()}
# Metadata a deleted message keeps: when and how it arrived, nothing the customer wrote.
KEPT_WHEN_PURGED = ("platform_timestamp", "platform_type", "raw_type", "origin")


def storage() -> Storage:
    field = Attachment._meta.get_field("file")
    assert isinstance(field, FileField)
    return field.storage


# --- inbound: rows from what a channel reported --------------------------------------------------


def _fitted_name(name: str) -> str:
    return name[-255:] if len(name) > 255 else name


def inbound_attachment_rows(message: Message, attachments: Iterable[InboundAttachment]):
    return [
        Attachment(
            message=message,
            workspace_id=message.workspace_id,
            position=position,
            kind=item.kind,
            mime_type=item.mime_type[:100],
            size=item.size,
            file_name=_fitted_name(item.file_name),
            caption=item.caption,
            source_id=item.source_id[:256],
            source_url=item.source_url if len(item.source_url) <= 2000 else "",
            source_sha256=item.sha256[:128],
        )
        for position, item in enumerate(attachments)
    ]


def known_attachments(messages: Iterable[Message], rows: Iterable[Attachment]) -> None:
    """Give each message its attachments as if prefetched, so the events built for a batch do
    not query them one message at a time."""
    by_message: dict[Any, list[Attachment]] = {}
    for row in rows:
        by_message.setdefault(row.message_id, []).append(row)
    for message in messages:
        queryset: QuerySet[Attachment] = Attachment.objects.none()
        queryset._result_cache = by_message.get(message.pk, [])
        queryset._prefetch_done = True  # type: ignore[attr-defined]
        cache = message.__dict__.setdefault("_prefetched_objects_cache", {})
        cache["attachments"] = queryset


def attachments_create_inbound(
    pairs: Iterable[tuple[Message, tuple[InboundAttachment, ...]]],
) -> list[Attachment]:
    """``pending`` rows for the files of messages just stored (one INSERT for a batch)."""
    pairs = list(pairs)
    rows = [row for message, items in pairs for row in inbound_attachment_rows(message, items)]
    if rows:
        Attachment.objects.bulk_create(rows)
    known_attachments([message for message, _items in pairs], rows)
    return rows


# --- downloads, as integrations reports them -----------------------------------------------------


def attachment_claim_download(*, attachment_id) -> Attachment | None:
    """Count one more attempt of a pending download; None when there is nothing to download
    (done, failed for good, purged or gone)."""
    claimed = Attachment.objects.filter(pk=attachment_id, status=Attachment.Status.PENDING).update(
        attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    return (
        Attachment.objects.select_related("message__conversation", "message__integration")
        .filter(pk=attachment_id)
        .first()
    )


@dataclass(frozen=True)
class StoredFile:
    name: str
    mime_type: str
    size: int
    sha256: str
    file_name: str


def _digest_and_size(content: IO[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    content.seek(0)
    for chunk in iter(lambda: content.read(1024 * 1024), b""):
        digest.update(chunk)
        size += len(chunk)
    content.seek(0)
    return digest.hexdigest(), size


def _head(content: IO[bytes]) -> bytes:
    content.seek(0)
    head = content.read(HEAD_BYTES)
    content.seek(0)
    return head


def store_file(
    attachment: Attachment, content: IO[bytes], *, kind: str, declared: str, file_name: str
) -> StoredFile:
    """Check what the bytes are and write them to storage (outside any transaction)."""
    sniffed = sniff(_head(content), kind=kind, declared=declared, file_name=file_name)
    sha256, size = _digest_and_size(content)
    # Photos and voice notes come without a name: "image.jpg", "audio.ogg".
    file_name = _fitted_name(file_name) or f"{kind}{_extension(sniffed.mime_type)}"
    name = storage().save(attachment_path(attachment, file_name), content)
    return StoredFile(name, sniffed.mime_type, size, sha256, file_name)


def _extension(mime_type: str) -> str:
    known = {"image/jpeg": ".jpg", "audio/ogg": ".ogg", "audio/mpeg": ".mp3", "audio/mp4": ".m4a"}
    return known.get(mime_type) or mimetypes.guess_extension(mime_type) or ""


def _forget(name: str) -> None:
    if name:
        storage().delete(name)


def _forget_all(names: list[str]) -> None:
    for name in names:
        _forget(name)


def attachment_store_download(
    *, attachment: Attachment, content: IO[bytes], declared: str, file_name: str
) -> bool:
    """Keep a downloaded file: typed from its bytes, stored, the message updated live.

    RefusedFile when the bytes are not what the message says (a program, a page, a "photo"
    that is a PDF). False when the attachment was purged or finished meanwhile.
    """
    stored = store_file(
        attachment, content, kind=attachment.kind, declared=declared, file_name=file_name
    )
    with transaction.atomic():
        done = Attachment.objects.filter(pk=attachment.pk, status=Attachment.Status.PENDING).update(
            status=Attachment.Status.READY,
            file=stored.name,
            mime_type=stored.mime_type,
            size=stored.size,
            sha256=stored.sha256,
            file_name=stored.file_name,
            error_code="",
            error_message="",
            downloaded_at=timezone.now(),
        )
        if done:
            message_updated(_reloaded_message(attachment))
    if not done:
        _forget(stored.name)
    return bool(done)


def attachment_download_failed(
    *, attachment: Attachment, code: str, reason: str, final: bool
) -> None:
    """Record why a download failed; ``final`` gives up (the message shows it, with a retry)."""
    changes: dict[str, Any] = {"error_code": code[:64], "error_message": reason}
    if final:
        changes["status"] = Attachment.Status.FAILED
    with transaction.atomic():
        changed = Attachment.objects.filter(
            pk=attachment.pk, status=Attachment.Status.PENDING
        ).update(**changes)
        if changed and final:
            message_updated(_reloaded_message(attachment))


def _reloaded_message(attachment: Attachment) -> Message:
    return (
        Message.objects.select_related("conversation")
        .prefetch_related("attachments")
        .get(pk=attachment.message_id)
    )


@transaction.atomic
def attachment_retry_download(*, by: User | None, attachment: Attachment) -> Attachment:
    """Download a failed file again (agents in the inbox and the API, operators in admin)."""
    if by is not None:
        ensure_can_act(by=by, conversation=attachment.message.conversation)
    reset = Attachment.objects.filter(
        pk=attachment.pk, status=Attachment.Status.FAILED, message__sender=Message.Sender.USER
    ).update(status=Attachment.Status.PENDING, attempts=0, error_code="", error_message="")
    if not reset:
        raise ConflictError("Only failed downloads can be retried.", code="not_retryable")
    attachment.refresh_from_db()
    message_updated(_reloaded_message(attachment))
    hooks.attachment_download_queued.send(attachment=attachment)
    return attachment


def attachments_pending() -> QuerySet[Attachment]:
    return Attachment.objects.filter(status=Attachment.Status.PENDING)


# --- uploads by agents ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file an agent attached, as the API received it."""

    content: IO[bytes]
    file_name: str
    declared: str
    size: int
    kind: str = ""  # "" : from the bytes


def _platform_label(platform: str) -> str:
    return str(Platform(platform).label) if platform in Platform.values else platform


def _limit_refusal(platform: str, kind: str, limit: MediaLimit | None, upload: Upload) -> str:
    label = _platform_label(platform)
    kind_label = AttachmentKind(kind).label.lower()
    if limit is None:
        return f"{label} cannot send {kind_label} files: send it as a document."
    if limit.mime_types and upload.declared not in limit.mime_types:
        types = ", ".join(sorted(t.partition("/")[2].upper() for t in limit.mime_types))
        return f"{label} takes {kind_label} files as {types} only: send it as a document."
    if upload.size > limit.max_bytes:
        return (
            f"The file is {human_size(upload.size)}; {label} accepts {kind_label} files of up "
            f"to {human_size(limit.max_bytes)}."
        )
    return ""


def _caption_refusal(platform: str, kind: str, limit: MediaLimit, caption: str) -> str:
    label = _platform_label(platform)
    if caption and not limit.takes_caption:
        kind_label = AttachmentKind(kind).label.lower()
        return f"{label} {kind_label} messages cannot carry text: send the text on its own."
    if limit.max_caption is not None and len(caption) > limit.max_caption:
        return f"{label} captions have at most {limit.max_caption} characters."
    return ""


def upload_refusal(conversation: Conversation, upload: Upload, caption: str) -> str:
    """Why the conversation's channel would refuse this file ("" when it takes it)."""
    if upload.size > settings.MEDIA_UPLOAD_MAX_BYTES:
        return f"Files can be up to {human_size(settings.MEDIA_UPLOAD_MAX_BYTES)}."
    if conversation.integration_id is None:
        return ""
    limits: Mapping[str, MediaLimit] | None = hooks.media_limits.ask(platform=conversation.platform)
    if limits is None:
        return ""
    limit = limits.get(upload.kind)
    refusal = _limit_refusal(conversation.platform, upload.kind, limit, upload)
    if refusal or limit is None:
        return refusal
    return _caption_refusal(conversation.platform, upload.kind, limit, caption)


def typed_upload(upload: Upload) -> Upload:
    """The upload with its real type: the kind asked for (or the bytes' own) and the MIME type
    the bytes show. InvalidInput for programs, pages and files that are not what they claim."""
    head = _head(upload.content)
    named = {"declared": upload.declared, "file_name": upload.file_name}
    try:
        kind = upload.kind or kind_of(mime_type_of(head, **named))
        sniffed = sniff(head, kind=kind, **named)
    except RefusedFile as refused:
        raise InvalidInput("Invalid input.", details={"file": [refused.reason]}) from refused
    return Upload(
        content=upload.content,
        file_name=upload.file_name,
        declared=sniffed.mime_type,
        size=upload.size,
        kind=sniffed.kind,
    )


def upload_store(attachment: Attachment, upload: Upload) -> StoredFile:
    return store_file(
        attachment,
        upload.content,
        kind=upload.kind,
        declared=upload.declared,
        file_name=upload.file_name,
    )


def upload_discard(stored: StoredFile | None) -> None:
    if stored is not None:
        _forget(stored.name)


# --- deletion by the customer --------------------------------------------------------------------


def purge_message_content(message: Message) -> None:
    """Forget what the customer sent (text, captions, files); the message stays as a marker.

    Runs inside the caller's transaction; the files are deleted once it commits.
    """
    message.content = ""
    message.media_url = ""
    message.metadata = {
        key: value for key, value in message.metadata.items() if key in KEPT_WHEN_PURGED
    }
    names = [
        name for name in message.attachments.exclude(file="").values_list("file", flat=True) if name
    ]
    message.attachments.update(
        status=Attachment.Status.PURGED,
        file="",
        caption="",
        file_name="",
        source_id="",
        source_url="",
        sha256="",
        source_sha256="",
        error_code="",
        error_message="",
    )
    transaction.on_commit(lambda: _forget_all(names), robust=True)
    _clear_preview(message)


def _clear_preview(message: Message) -> None:
    """The conversation list showed this message's text: it goes too (when it is the last)."""
    newer = Message.objects.filter(conversation_id=message.conversation_id).filter(
        Q(created_at__gt=message.created_at) | Q(created_at=message.created_at, pk__gt=message.pk)
    )
    if not newer.exists():
        Conversation.objects.filter(pk=message.conversation_id).update(last_message="")


def attachment_kind_for(message_type: str) -> str:
    return KINDS.get(message_type, "")
