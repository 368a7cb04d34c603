"""The Spanish catalogues are complete, compiled, and actually served.

Every entry of ``locale/es/LC_MESSAGES/{django,djangojs}.po`` must be translated and not fuzzy,
the committed ``.mo`` files must say the same as the ``.po`` files (a stale ``.mo`` fails here),
and pages must follow the browser for visitors and the user's or workspace's language for
members. After ``makemessages`` adds strings, translate them and run ``compilemessages``.
"""

from __future__ import annotations

import gettext as gnu_gettext
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

LC_MESSAGES = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES"
DOMAINS = ("django", "djangojs")
NPLURALS = 2

# --- a small PO parser ---------------------------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def label(self) -> str:
        context = f"{self.msgctxt!r} | " if self.msgctxt is not None else ""
        return f"line {self.line}: {context}{self.msgid!r}"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b"}
_ESCAPES |= {"f": "\f", "v": "\v", "?": "?", "'": "'"}
_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]+|[0-7]{1,3}|.)")
_KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")\s*$")


def _unquote(token: str, where: str) -> str:
    if len(token) < 2 or not (token.startswith('"') and token.endswith('"')):
        raise ValueError(f"{where}: not a quoted string: {token}")

    def replace(match: re.Match) -> str:
        code = match.group(1)
        if code in _ESCAPES:
            return _ESCAPES[code]
        if code[0] == "x":
            return chr(int(code[1:], 16))
        if code[0] in "01234567":
            return chr(int(code, 8))
        raise ValueError(f"{where}: unknown escape \\{code}")

    return _ESCAPE.sub(replace, token[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """Entries of a PO file (obsolete ``#~`` entries are left out)."""
    entries: list[Entry] = []
    current: Entry | None = None
    seen_msgstr = False
    target: tuple[str, int | None] | None = None

    def finish() -> None:
        nonlocal current, seen_msgstr, target
        if current is not None:
            if not seen_msgstr:
                raise ValueError(f"{path}:{current.line}: entry without msgstr")
            entries.append(current)
        current, seen_msgstr, target = None, False, None

    def append(text: str) -> None:
        name, index = target
        if name == "msgstr[]":
            current.msgstr_plural[index] += text
        else:
            setattr(current, name, (getattr(current, name) or "") + text)

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        where = f"{path.name}:{number}"
        if not line:
            finish()
        elif line.startswith("#~"):
            continue
        elif line.startswith("#"):
            if seen_msgstr:
                finish()
            if current is None:
                current = Entry(line=number)
            if line.startswith("#,"):
                current.flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
        elif line.startswith('"'):
            if target is None:
                raise ValueError(f"{where}: continuation string without a keyword")
            append(_unquote(line, where))
        else:
            match = _KEYWORD.match(line)
            if match is None:
                raise ValueError(f"{where}: cannot parse {raw!r}")
            keyword, index, token = match.groups()
            if keyword in ("msgctxt", "msgid") and seen_msgstr:
                finish()
            if current is None:
                current = Entry(line=number)
            text = _unquote(token, where)
            if keyword.startswith("msgstr"):
                seen_msgstr = True
            if index is not None:
                current.msgstr_plural[int(index)] = text
                target = ("msgstr[]", int(index))
            else:
                setattr(current, keyword, text)
                target = (keyword, None)
    finish()
    return entries


def _header(entries: list[Entry]) -> dict[str, str]:
    header = next(entry for entry in entries if entry.is_header)
    pairs = (line.split(":", 1) for line in header.msgstr.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def _messages(domain: str) -> list[Entry]:
    return [entry for entry in parse_po(LC_MESSAGES / f"{domain}.po") if not entry.is_header]


# --- the parser itself ---------------------------------------------------------------------------


def test_parser_reads_context_plurals_continuations_and_escapes(tmp_path):
    po = tmp_path / "sample.po"
    po.write_text(
        'msgid ""\n'
        'msgstr ""\n'
        '"Language: es\\n"\n'
        "\n"
        "#: a.py:1\n"
        "#, fuzzy, python-format\n"
        'msgctxt "button"\n'
        'msgid "Say \\"%(name)s\\"\\n"\n'
        'msgstr ""\n'
        '"Di \\"%(name)s\\""\n'
        '"\\n"\n'
        'msgid "%d file"\n'
        'msgid_plural "%d files"\n'
        'msgstr[0] "%d archivo"\n'
        'msgstr[1] ""\n'
        '"%d archivos\\t\\\\"\n'
        "\n"
        '#~ msgid "Old"\n'
        '#~ msgstr "Viejo"\n',
        encoding="utf-8",
    )
    header, first, second = parse_po(po)
    assert _header([header]) == {"Language": "es"}
    assert first.msgctxt == "button"
    assert first.msgid == 'Say "%(name)s"\n'
    assert first.msgstr == 'Di "%(name)s"\n'
    assert first.flags == {"fuzzy", "python-format"}
    assert second.msgctxt is None
    assert second.msgid_plural == "%d files"
    assert second.msgstr_plural == {0: "%d archivo", 1: "%d archivos\t\\"}
    assert not second.flags


# --- the catalogues are complete -----------------------------------------------------------------


@pytest.mark.parametrize("domain", DOMAINS)
def test_header_declares_spanish(domain):
    header = _header(parse_po(LC_MESSAGES / f"{domain}.po"))
    assert header["Language"] == "es"
    assert header["Content-Type"] == "text/plain; charset=UTF-8"
    assert header["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    assert header["Project-Id-Version"] == "FLAME Assistant"


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_entry_is_translated_and_not_fuzzy(domain):
    entries = _messages(domain)
    assert entries, f"{domain}.po has no entries"
    fuzzy = [entry.label for entry in entries if "fuzzy" in entry.flags]
    untranslated = []
    for entry in entries:
        if entry.msgid_plural is None:
            if not entry.msgstr:
                untranslated.append(entry.label)
        elif sorted(entry.msgstr_plural) != list(range(NPLURALS)) or not all(
            entry.msgstr_plural.values()
        ):
            untranslated.append(entry.label)
    assert fuzzy == [], f"fuzzy entries in {domain}.po"
    assert untranslated == [], f"untranslated entries in {domain}.po"


# --- the compiled catalogues match the sources ---------------------------------------------------


def _mismatches(entries: list[Entry], translate) -> list[str]:
    """``translate(entry, n)`` returns what the compiled catalogue says for an entry."""
    wrong = []
    for entry in entries:
        if entry.msgid_plural is None:
            expected = {None: entry.msgstr}
        else:
            # Plural-Forms is (n != 1): 1 takes form 0, 0 and 2 take form 1.
            expected = {1: entry.msgstr_plural[0], 2: entry.msgstr_plural[1]}
            expected[0] = entry.msgstr_plural[1]
        for n, msgstr in expected.items():
            got = translate(entry, n)
            if got != msgstr:
                wrong.append(f"{entry.label} (n={n}): {got!r} != {msgstr!r}")
    return wrong


def test_django_mo_matches_po():
    def translate(entry: Entry, n: int | None) -> str:
        if entry.msgid_plural is None:
            if entry.msgctxt is None:
                return translation.gettext(entry.msgid)
            return translation.pgettext(entry.msgctxt, entry.msgid)
        if entry.msgctxt is None:
            return translation.ngettext(entry.msgid, entry.msgid_plural, n)
        return translation.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)

    with translation.override("es"):
        wrong = _mismatches(_messages("django"), translate)
    assert wrong == [], "django.mo is stale: run compilemessages"


def test_djangojs_mo_matches_po():
    with (LC_MESSAGES / "djangojs.mo").open("rb") as mo:
        catalogue = gnu_gettext.GNUTranslations(mo)

    def translate(entry: Entry, n: int | None) -> str:
        if entry.msgid_plural is None:
            if entry.msgctxt is None:
                return catalogue.gettext(entry.msgid)
            return catalogue.pgettext(entry.msgctxt, entry.msgid)
        if entry.msgctxt is None:
            return catalogue.ngettext(entry.msgid, entry.msgid_plural, n)
        return catalogue.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)

    wrong = _mismatches(_messages("djangojs"), translate)
    assert wrong == [], "djangojs.mo is stale: run compilemessages"


# --- pages speak the right language --------------------------------------------------------------


@pytest.mark.django_db
def test_login_page_follows_the_browser(client):
    spanish = client.get("/login/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="es"' in spanish
    assert "Iniciar sesión" in spanish
    assert "Sign in" not in spanish

    english = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en"' in english
    assert "Sign in" in english
    assert "Iniciar sesión" not in english


@pytest.mark.django_db
def test_javascript_catalogue_follows_the_browser(client):
    spanish = client.get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="es")
    assert spanish.status_code == 200
    body = spanish.content.decode()
    # The view writes the catalogue as JSON (non-ASCII escaped), one "msgid": "msgstr" a line.
    assert f"{json.dumps('Retry')}: {json.dumps('Reintentar')}" in body
    assert json.dumps("Reconectando…") in body

    english = client.get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert json.dumps("Reintentar") not in english


def _page_of(client, user, browser_language: str) -> str:
    client.force_login(user)
    response = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE=browser_language)
    assert response.status_code == 200
    return response.content.decode()


def _assert_spanish(page: str) -> None:
    assert '<html lang="es"' in page
    assert "Cerrar sesión" in page
    assert "Sign out" not in page


def _assert_english(page: str) -> None:
    assert '<html lang="en"' in page
    assert "Sign out" in page
    assert "Cerrar sesión" not in page


@pytest.mark.django_db
def test_member_who_chose_spanish_gets_spanish_whatever_the_browser(client, agent_user):
    agent_user.language = "es"
    agent_user.save(update_fields=["language"])
    _assert_spanish(_page_of(client, agent_user, "en"))


@pytest.mark.django_db
def test_member_who_chose_english_gets_english_whatever_the_browser(client, admin_user):
    assert admin_user.workspace.language == "es"
    admin_user.language = "en"
    admin_user.save(update_fields=["language"])
    _assert_english(_page_of(client, admin_user, "es"))


@pytest.mark.django_db
def test_member_without_a_choice_follows_the_workspace(client, agent_user):
    assert agent_user.language == ""
    assert agent_user.workspace.language == "es"
    _assert_spanish(_page_of(client, agent_user, "en"))

    agent_user.workspace.language = "en"
    agent_user.workspace.save(update_fields=["language"])
    _assert_english(_page_of(client, agent_user, "es"))
