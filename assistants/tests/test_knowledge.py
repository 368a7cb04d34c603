"""Chunking and retrieval (PostgreSQL full-text search, or the portable scorer elsewhere).

The same assertions run on both backends: the score means "share of the question's content
words the snippet contains" on each.
"""

from __future__ import annotations

import pytest

from assistants import knowledge, selectors, services
from assistants.models import KnowledgeChunk
from assistants.tests.factories import AIAssistantFactory, KnowledgeDocumentFactory
from flame.text import fold

FAQ = {
    "Envíos": "Enviamos a toda la República. En CDMX entregamos el mismo día.",
    "Formas de pago": "Aceptamos tarjeta de crédito, transferencia y efectivo.",
    "Payment methods": "We accept credit cards, bank transfers and cash on delivery.",
    "Opening hours": "We are open Monday to Friday from 9 to 19.",
}


@pytest.fixture
def trained(db, workspace):
    assistant = AIAssistantFactory(workspace=workspace)
    for title, content in FAQ.items():
        KnowledgeDocumentFactory(assistant=assistant, title=title, content=content)
    services.knowledge_index_build(assistant_id=assistant.pk)
    return assistant


def _search(assistant, query, limit=3):
    return selectors.knowledge_search(assistant=assistant, query=query, limit=limit)


def test_fold_removes_case_and_accents():
    assert fold("ENVÍOS Añejo Ça") == "envios anejo ca"


def test_query_words_drop_stop_words_in_both_languages():
    assert knowledge.query_words("¿Hola, hacen envíos a Monterrey?") == ["envios", "monterrey"]
    assert knowledge.query_words("What are the opening hours?") == ["opening", "hours"]


def test_faq_entries_separated_by_blank_lines_stay_whole():
    entries = ["¿Hacen envíos?\nSí, a todo México.", "¿Formas de pago?\nTarjeta o efectivo."]

    assert knowledge.chunk_text("\n\n".join(entries)) == ["\n\n".join(entries)]


def test_long_text_is_split_into_bounded_chunks():
    paragraph = " ".join(f"Frase número {n} del catálogo." for n in range(200))

    chunks = knowledge.chunk_text(paragraph)

    assert len(chunks) > 1
    assert all(len(chunk) <= knowledge.CHUNK_CHARS for chunk in chunks)
    assert " ".join(chunks).count("Frase número") == 200


@pytest.mark.django_db
def test_spanish_question_without_accents_finds_the_spanish_entry(trained):
    snippets = _search(trained, "hacen envios a domicilio?")

    assert snippets[0].title == "Envíos"
    assert snippets[0].score == 0.5  # "envios" found, "domicilio" not


@pytest.mark.django_db
def test_english_question_finds_the_english_entry(trained):
    snippets = _search(trained, "Which payment methods do you accept?")

    assert snippets[0].title == "Payment methods"
    assert snippets[0].score == 1.0  # payment, methods, accept


@pytest.mark.django_db
def test_best_matches_come_first_and_limit_applies(trained):
    snippets = _search(trained, "transferencia tarjeta", limit=1)

    assert [s.title for s in snippets] == ["Formas de pago"]
    assert snippets[0].score == 1.0


@pytest.mark.django_db
def test_nothing_matching_returns_nothing(trained):
    assert _search(trained, "xilófono zanahoria") == []
    assert _search(trained, "¿y?") == []


@pytest.mark.django_db
def test_untrained_knowledge_is_not_searched(workspace):
    assistant = AIAssistantFactory(workspace=workspace)
    KnowledgeDocumentFactory(assistant=assistant, title="Envíos", content="Enviamos a todo México.")

    assert _search(assistant, "envios") == []


@pytest.mark.django_db
def test_search_never_crosses_assistants(trained, workspace):
    other = AIAssistantFactory(workspace=workspace)
    KnowledgeDocumentFactory(assistant=other, title="Secreto", content="Envíos secretos.")
    services.knowledge_index_build(assistant_id=other.pk)

    assert [s.title for s in _search(trained, "envios", limit=10)] == ["Envíos"]


@pytest.mark.django_db
def test_index_holds_one_chunk_per_faq_entry(trained):
    assert KnowledgeChunk.objects.filter(assistant=trained).count() == 4
    assert KnowledgeChunk.objects.get(title="Envíos").search_text.startswith("envios\n")
