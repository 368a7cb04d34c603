"""What a file really is, read from its first bytes, and whether we keep it.

A customer's file (downloaded from a channel) and an agent's upload are both untrusted: the
MIME type a platform or a browser announces is only a hint. The type we store and serve is the
one the bytes show (magic numbers), so a page saved as ``photo.jpg`` is never served as an
image, and executables and HTML are refused outright. No library is needed for the handful
of formats customers send (photos, voice notes, videos, PDFs and office documents).
"""

from __future__ import annotations

from dataclasses import dataclass

from conversations.types import AttachmentKind

HEAD_BYTES = 64  # enough for every signature below

# Office documents are ZIP (OOXML, OpenDocument) or OLE2 containers: the announced type or
# the extension says which one, as long as it is one of these.
ZIP_DOCUMENTS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
}
OLE_DOCUMENTS = {
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
}
TEXT_DOCUMENTS = {"csv": "text/csv", "txt": "text/plain"}
# ISO base media ("....ftyp<brand>") brands: MP4/M4A/MOV/3GP/HEIC.
FTYP_BRANDS = {
    b"M4A ": "audio/mp4",
    b"M4B ": "audio/mp4",
    b"qt  ": "video/quicktime",
    b"3gp4": "video/3gpp",
    b"3gp5": "video/3gpp",
    b"3gp6": "video/3gpp",
    b"3g2a": "video/3gpp2",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"mif1": "image/heif",
    b"avif": "image/avif",
}
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
    (b"#!AMR", "audio/amr"),
    (b"fLaC", "audio/flac"),
    (b"\x1a\x45\xdf\xa3", "video/webm"),
    (b"PK\x03\x04", "application/zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"\x1f\x8b", "application/gzip"),
)
# Programs and markup a browser would run: refused whatever they claim to be.
DANGEROUS_SIGNATURES = (
    b"MZ",  # Windows PE
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",  # Mach-O
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal / Java class
    b"#!",  # scripts
)
MARKUP_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<?xml")
GENERIC_BINARY = "application/octet-stream"


class RefusedFile(Exception):
    """The bytes are not something we keep (a program, a web page) or not what they claim."""

    def __init__(self, reason: str, *, code: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class Sniffed:
    mime_type: str
    kind: str


def _extension(file_name: str) -> str:
    return file_name.rpartition(".")[2].lower() if "." in file_name else ""


def _riff(head: bytes) -> str | None:
    if head[:4] != b"RIFF":
        return None
    return {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}.get(head[8:12])


def _iso_media(head: bytes) -> str | None:
    if head[4:8] != b"ftyp":
        return None
    return FTYP_BRANDS.get(head[8:12], "video/mp4")


def _mpeg_audio(head: bytes) -> str | None:
    if len(head) < 2 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    # ADTS (AAC) has layer bits 00; the rest are MPEG audio frames (MP3).
    return "audio/aac" if head[1] & 0x06 == 0 else "audio/mpeg"


def _by_signature(head: bytes) -> str | None:
    for reader in (_riff, _iso_media, _mpeg_audio):
        found = reader(head)
        if found:
            return found
    return next((mime for magic, mime in SIGNATURES if head.startswith(magic)), None)


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the end of the sample is still text.
        return error.start >= len(head) - 3
    return True


def _refuse_dangerous(head: bytes) -> None:
    if head.startswith(DANGEROUS_SIGNATURES):
        raise RefusedFile("Programs and scripts are not accepted.", code="file_refused")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(MARKUP_STARTS):
        raise RefusedFile("Web pages and SVG images are not accepted.", code="file_refused")


def _container_document(mime: str, declared: str, file_name: str) -> str:
    """A ZIP or OLE2 file: the office document it says it is, else a plain archive."""
    table = ZIP_DOCUMENTS if mime == "application/zip" else OLE_DOCUMENTS
    if declared in table.values():
        return declared
    return table.get(_extension(file_name), mime if mime == "application/zip" else GENERIC_BINARY)


def _text_document(declared: str, file_name: str) -> str:
    if declared in TEXT_DOCUMENTS.values():
        return declared
    return TEXT_DOCUMENTS.get(_extension(file_name), "text/plain")


def mime_type_of(head: bytes, *, declared: str = "", file_name: str = "") -> str:
    """The MIME type the first bytes of a file show; RefusedFile for programs and markup."""
    _refuse_dangerous(head)
    mime = _by_signature(head)
    if mime in ("application/zip", "application/x-ole-storage"):
        return _container_document(mime, declared.lower(), file_name)
    if mime:
        return mime
    if head and _looks_like_text(head):
        return _text_document(declared.lower(), file_name)
    return GENERIC_BINARY


def kind_of(mime_type: str) -> str:
    family = mime_type.partition("/")[0]
    kinds = {
        "image": AttachmentKind.IMAGE,
        "video": AttachmentKind.VIDEO,
        "audio": AttachmentKind.AUDIO,
    }
    return kinds.get(family, AttachmentKind.DOCUMENT)


def _fits_kind(mime_type: str, kind: str, declared: str) -> bool:
    if kind == AttachmentKind.DOCUMENT:
        return True  # anything that is not a program or a page may be sent as a document
    if kind_of(mime_type) == kind:
        return True
    # MP4 and 3GP hold audio as well as video: the announced type tells which it is.
    containers = ("video/mp4", "video/3gpp")
    return (
        mime_type in containers and kind == AttachmentKind.AUDIO and declared.startswith("audio/")
    )


def sniff(head: bytes, *, kind: str, declared: str = "", file_name: str = "") -> Sniffed:
    """The type of a file expected to be ``kind``: refused when the bytes are something else
    (a "photo" that is a PDF), or a program or markup."""
    mime = mime_type_of(head, declared=declared, file_name=file_name)
    if not _fits_kind(mime, kind, declared.lower()):
        raise RefusedFile(
            f"The file is not a valid {AttachmentKind(kind).label.lower()} ({mime}).",
            code="wrong_type",
        )
    if kind == AttachmentKind.AUDIO and kind_of(mime) == AttachmentKind.VIDEO:
        mime = declared.lower()  # an audio track in an MP4/3GP container
    return Sniffed(mime_type=mime, kind=kind)


def human_size(size: int) -> str:
    """Sizes for people: 5242880 → "5 MB", 1536 → "1.5 KB"."""
    if size < 1024:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KB", "MB"):
        value /= 1024
        if value < 1024:
            return f"{value:.1f}".removesuffix(".0") + f" {unit}"
    return f"{value / 1024:.1f}".removesuffix(".0") + " GB"
