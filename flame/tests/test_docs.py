"""The docs stand on their own: no file of the repository points at files outside it, and every
``docs/channels.md §<key>`` citation in the code names a section that docs/channels.md has.

Plain file reading over what git tracks (plus new files not ignored yet): no database.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHANNELS_DOC = "docs/channels.md"
# Spells out the forbidden references as examples, so it cannot be scanned for them.
THIS_FILE = Path(__file__).resolve().relative_to(ROOT).as_posix()

SCANNED_SUFFIXES = {
    ".py",
    ".md",
    ".html",
    ".js",
    ".yml",
    ".yaml",
    ".example",
    ".toml",
    ".ini",
    ".cfg",
    ".conf",
    ".sh",
    ".txt",
}
# Scripts without a suffix: scripts/*, .ci/run, bench/*/run, Dockerfile.
SCANNED_FOLDERS = ("scripts/", ".ci/", "bench/")
SCANNED_NAMES = {"Dockerfile"}

# The design card, conventions and research notes live outside the repository; nothing here may
# send a reader (or a comment) there.
OUTSIDE_REFERENCE = re.compile(
    r"\.\./shared|shared/DESIGN|shared/CONVENTIONS|DESIGN\.md|CONVENTIONS\.md|DESIGN §"
    r"|perf_reliability|aesthetics\.md"
)
# Any path ending in channels.md; only the repository's own file may be named.
CHANNELS_PATH = re.compile(r"[\w./-]*channels\.md")
SECTION_KEY = r"[a-z]+(?:\.[a-z]+)*"
# "docs/channels.md §a.b", "docs/channels.md §a, §b" and a citation wrapped onto a comment line.
CITATION = re.compile(rf"docs/channels\.md((?:[\s,;#]*(?:and\s+)?§{SECTION_KEY})+)")
HEADING = re.compile(rf"^#{{2,6}} §({SECTION_KEY})\b", re.MULTILINE)
SECTION_MENTION = re.compile(rf"§({SECTION_KEY})")


def _repository_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted({path for path in listed.split("\0") if path})


def _is_scanned(path: str) -> bool:
    file = Path(path)
    return (
        file.suffix in SCANNED_SUFFIXES
        or file.name in SCANNED_NAMES
        or (file.suffix == "" and path.startswith(SCANNED_FOLDERS))
    )


def _scanned_texts() -> dict[str, str]:
    texts = {}
    for path in _repository_files():
        file = ROOT / path
        # A file deleted in the working tree is still listed until the deletion is staged.
        if path != THIS_FILE and _is_scanned(path) and file.is_file():
            texts[path] = file.read_text(encoding="utf-8", errors="replace")
    return texts


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def outside_references(text: str) -> list[tuple[int, str]]:
    """(line, text) of every reference to a file outside the repository."""
    found = [(m.start(), m.group()) for m in OUTSIDE_REFERENCE.finditer(text)]
    found += [
        (m.start(), m.group()) for m in CHANNELS_PATH.finditer(text) if m.group() != CHANNELS_DOC
    ]
    return [(_line_of(text, offset), match) for offset, match in sorted(found)]


def cited_sections(text: str) -> list[tuple[int, str]]:
    """(line, key) of every section a ``docs/channels.md §<key>`` citation names."""
    return [
        (_line_of(text, citation.start()), key)
        for citation in CITATION.finditer(text)
        for key in SECTION_MENTION.findall(citation.group(1))
    ]


def channel_sections() -> list[str]:
    return HEADING.findall((ROOT / CHANNELS_DOC).read_text(encoding="utf-8"))


def test_the_checks_recognise_outside_references_and_citations():
    # given: a comment with each kind of reference the repository must not contain
    text = (
        "# see ../shared/DESIGN.md §2\n"
        "# (channels.md §2.4) and (research/channels.md §1.2)\n"
        "# (docs/channels.md §whatsapp.send, §meta.window) and docs/channels.md\n"
        "# §telegram.updates; docs/channels.md alone\n"
    )

    # when
    references = outside_references(text)
    citations = cited_sections(text)

    # then
    assert references == [
        (1, "../shared"),
        (1, "DESIGN.md"),
        (2, "channels.md"),
        (2, "research/channels.md"),
    ]
    assert citations == [(3, "whatsapp.send"), (3, "meta.window"), (3, "telegram.updates")]


def test_no_file_refers_to_files_outside_the_repository():
    offences = [
        f"{path}:{line}: {match}"
        for path, text in _scanned_texts().items()
        for line, match in outside_references(text)
    ]

    assert offences == []


def test_every_cited_channels_section_exists():
    sections = set(channel_sections())
    citations = [
        (path, line, key)
        for path, text in _scanned_texts().items()
        for line, key in cited_sections(text)
    ]

    missing = [f"{path}:{line}: §{key}" for path, line, key in citations if key not in sections]

    assert citations, "the provider code cites docs/channels.md; the scan found no citation"
    assert missing == []


def test_channels_doc_sections_are_unique_nested_and_cross_references_resolve():
    sections = channel_sections()
    text = (ROOT / CHANNELS_DOC).read_text(encoding="utf-8")

    duplicated = sorted({key for key in sections if sections.count(key) > 1})
    orphans = [key for key in sections if "." in key and key.rsplit(".", 1)[0] not in sections]
    dangling = sorted({key for key in SECTION_MENTION.findall(text) if key not in sections})

    assert "whatsapp.send" in sections
    assert (duplicated, orphans, dangling) == ([], [], [])
