"""Text handling for the knowledge base: folding, chunking and the portable relevance score.

Retrieval scores a chunk by *coverage*: the share of the question's content words (stop words
left out, Spanish and English) that the chunk contains. It means the same on every database —
PostgreSQL computes it with its Spanish and English stemmers over the GIN-indexed tsvector
(selectors.knowledge_search), SQLite with the light stemmer below — so one threshold
(KNOWLEDGE_MATCH_THRESHOLD) reads the same everywhere: 0.5 = half the words are found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flame.text import fold

CHUNK_CHARS = 1200
MAX_QUERY_TERMS = 12

_WORD = re.compile(r"\w+", flags=re.UNICODE)

_STOP_WORDS_TEXT = """
    a al algo algun alguna algunas alguno algunos ante antes como con contra cual cuales cuando
    de del desde donde dos el ella ellas ellos en entre era es esa esas ese eso esos esta estan
    estas este esto estos estoy fue ha hay la las le les lo los mas me mi mis mucho muy nada ni
    no nos o os otra otro para pero poco por porque que quien se sea si sin sobre son su sus
    tambien te tengo ti tu tus un una uno unos usted ustedes y ya yo hola buenas buenos dias
    tardes noches gracias favor quiero quisiera saber puedo pueden tienen tiene hacer hacen hace
    venden manejan cuentan ofrecen pregunta duda consulta question
    about an and any are as at be been but by can could do does did for from had has have hello
    hi how i if in into is it its me my no not of on or our please so than thanks thank that
    the their them then there these they this to us was we were what when where which who why
    will with would you your yes want like know
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

# Longest first. A light stemmer for the portable path only: PostgreSQL uses Snowball.
_SUFFIXES = (
    "amientos",
    "imientos",
    "aciones",
    "amiento",
    "imiento",
    "mente",
    "acion",
    "ando",
    "iendo",
    "ados",
    "idos",
    "adas",
    "idas",
    "ing",
    "ado",
    "ido",
    "ada",
    "ida",
    "es",
    "ed",
    "s",
)


def stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def query_words(text: str) -> list[str]:
    """The question's content words, folded, deduplicated, in order."""
    words = [w for w in _WORD.findall(fold(text)) if w not in STOP_WORDS and len(w) > 1]
    return list(dict.fromkeys(words))[:MAX_QUERY_TERMS]


def stems_of(text: str) -> set[str]:
    return {stem(word) for word in _WORD.findall(fold(text))}


def coverage(query: list[str], chunk_stems: set[str]) -> float:
    if not query:
        return 0.0
    found = sum(1 for word in query if stem(word) in chunk_stems)
    return found / len(query)


@dataclass(frozen=True)
class Snippet:
    """A retrieved piece of knowledge and how well it matches the question (0..1)."""

    title: str
    content: str
    score: float
    document_id: str = ""


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def _split_long(paragraph: str) -> list[str]:
    if len(paragraph) <= CHUNK_CHARS:
        return [paragraph]
    sentences = re.split(r"(?<=[.!?])\s+", paragraph)
    return _pack(sentences, separator=" ")


def _pack(pieces: list[str], *, separator: str) -> list[str]:
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{separator}{piece}" if current else piece
        if current and len(candidate) > CHUNK_CHARS:
            chunks.append(current)
            candidate = piece
        current = candidate
    if current:
        chunks.append(current)
    # A single sentence longer than a chunk is cut hard rather than dropped.
    return [c[i : i + CHUNK_CHARS] for c in chunks for i in range(0, len(c), CHUNK_CHARS)]


def chunk_text(text: str) -> list[str]:
    """Paragraph-aligned chunks of at most CHUNK_CHARS: an FAQ entry stays whole."""
    pieces = [piece for paragraph in _paragraphs(text) for piece in _split_long(paragraph)]
    return _pack(pieces, separator="\n\n")
