"""What a file is, read from its bytes (conversations/media.py): the type we store and serve
never comes from the platform's or the browser's word alone."""

from __future__ import annotations

import pytest

from conversations.media import RefusedFile, human_size, mime_type_of, sniff

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 40
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
GIF = b"GIF89a\x01\x00\x01\x00" + b"\x00" * 40
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"\x00" * 40
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 40
M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00" + b"\x00" * 40
OGG = b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00" + b"\x00" * 40
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 40
ZIP = b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 40
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 40
HTML = b"  <!DOCTYPE html><html><script>alert(1)</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
CSV = "nombre,total\nMaría,120\n".encode()


@pytest.mark.parametrize(
    ("head", "declared", "file_name", "expected"),
    [
        (JPEG, "", "", "image/jpeg"),
        (PNG, "image/jpeg", "foto.jpg", "image/png"),  # the bytes win over the claim
        (GIF, "", "", "image/gif"),
        (WEBP, "", "", "image/webp"),
        (PDF, "", "", "application/pdf"),
        (MP4, "", "", "video/mp4"),
        (M4A, "", "", "audio/mp4"),
        (OGG, "audio/ogg; codecs=opus", "", "audio/ogg"),
        (MP3, "", "", "audio/mpeg"),
        (b"\xff\xf1\x50\x80" + b"\x00" * 20, "", "", "audio/aac"),
        (b"\xff\xfb\x90\x64" + b"\x00" * 20, "", "", "audio/mpeg"),
        (
            ZIP,
            "",
            "factura.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (ZIP, "", "fotos.zip", "application/zip"),
        (CSV, "", "pedidos.csv", "text/csv"),
        (CSV, "", "", "text/plain"),
        (b"\x00\x01\x02\x03binary", "", "", "application/octet-stream"),
    ],
)
def test_the_type_is_read_from_the_bytes(head, declared, file_name, expected):
    assert mime_type_of(head, declared=declared, file_name=file_name) == expected


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (EXE, "Programs and scripts are not accepted."),
        (ELF, "Programs and scripts are not accepted."),
        (b"#!/bin/sh\nrm -rf /", "Programs and scripts are not accepted."),
        (HTML, "Web pages and SVG images are not accepted."),
        (SVG, "Web pages and SVG images are not accepted."),
        (b"\xef\xbb\xbf<html><body>", "Web pages and SVG images are not accepted."),
    ],
)
def test_programs_and_pages_are_refused_whatever_they_claim(head, reason):
    with pytest.raises(RefusedFile) as refused:
        sniff(head, kind="document", declared="application/pdf", file_name="factura.pdf")

    assert (refused.value.code, refused.value.reason) == ("file_refused", reason)


def test_a_file_that_is_not_the_kind_it_claims_is_refused():
    with pytest.raises(RefusedFile) as refused:
        sniff(PDF, kind="image", declared="image/jpeg", file_name="foto.jpg")

    assert (refused.value.code, refused.value.reason) == (
        "wrong_type",
        "The file is not a valid image (application/pdf).",
    )


def test_audio_in_an_mp4_container_keeps_its_announced_audio_type():
    sniffed = sniff(MP4, kind="audio", declared="audio/mp4", file_name="")

    assert (sniffed.mime_type, sniffed.kind) == ("audio/mp4", "audio")


def test_any_safe_file_may_be_a_document():
    assert sniff(JPEG, kind="document").mime_type == "image/jpeg"


@pytest.mark.parametrize(
    ("size", "label"),
    [(512, "512 bytes"), (1536, "1.5 KB"), (5 * 1024 * 1024, "5 MB"), (3 * 1024**3, "3 GB")],
)
def test_sizes_read_as_people_write_them(size, label):
    assert human_size(size) == label
