"""Small real files for the media tests (this module holds no tests): a PNG a browser draws,
and byte strings that start the way JPEG, PDF, OGG and a Windows program really do."""

from __future__ import annotations

import hashlib
import struct
import zlib


def png(width: int = 40, height: int = 30, rgb: tuple[int, int, int] = (242, 92, 5)) -> bytes:
    """A valid PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(200)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
OGG = b"OggS\x00\x02" + bytes(8) + b"OpusHead\x01\x01" + bytes(120)
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(200)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(100)
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
