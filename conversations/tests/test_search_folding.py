"""Search ignores accents and case, on PostgreSQL and on SQLite, and on PostgreSQL it runs
through the indexes (GIN full-text over messages, trigram over contacts)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from conversations import selectors
from conversations.models import Contact
from conversations.search import FoldedContactText, contains_every_term, search_terms
from conversations.selectors import ConversationFilters, conversation_list_for
from conversations.tests.factories import ContactFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def found(client, term: str) -> list[str]:
    response = client.get("/api/conversations", {"search": term})
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


@pytest.fixture
def shipping(workspace):
    conversation = ConversationFactory(
        workspace=workspace, contact=ContactFactory(workspace=workspace, name="Ana")
    )
    MessageFactory(conversation=conversation, content="¿Cuánto tarda el ENVÍO a Mérida?")
    return conversation


@pytest.mark.parametrize("term", ["envio", "envío", "ENVÍO", "Envi", "merida", "MÉRIDA envío"])
def test_message_text_matches_without_accents_or_case(admin_client, shipping, term):
    assert found(admin_client, term) == [str(shipping.pk)]


@pytest.mark.parametrize("term", ["ines", "INÉS", "nunez", "Núñez", "ines nunez", "IÑIGO"])
def test_contact_names_match_without_accents_or_case(admin_client, workspace, term):
    ConversationFactory(
        workspace=workspace, contact=ContactFactory(workspace=workspace, name="Otro")
    )
    wanted = ConversationFactory(
        workspace=workspace,
        contact=ContactFactory(workspace=workspace, name="Íñigo Inés Núñez"),
    )

    assert found(admin_client, term) == [str(wanted.pk)]


def test_phone_and_email_fragments_still_match(admin_client, workspace):
    wanted = ConversationFactory(
        workspace=workspace,
        contact=ContactFactory(
            workspace=workspace, name="Ana", phone="+5215599990000", email="Ana.Lopez@Correo.mx"
        ),
    )

    assert found(admin_client, "99990") == [str(wanted.pk)]
    assert found(admin_client, "ana.lopez@correo") == [str(wanted.pk)]
    assert found(admin_client, "LOPEZ") == [str(wanted.pk)]


def test_every_word_must_be_found_in_one_message_or_in_the_contact(admin_client, shipping):
    assert found(admin_client, "envio merida") == [str(shipping.pk)]
    assert found(admin_client, "envio cancun") == []
    assert found(admin_client, "envio ana") == []


def test_contacts_search_ignores_accents_too(admin_client, workspace):
    contact = ContactFactory(workspace=workspace, name="José Ñandú")
    ContactFactory(workspace=workspace, name="Pedro")

    response = admin_client.get("/api/contacts", {"search": "jose nandu"})

    assert [row["id"] for row in response.json()["results"]] == [str(contact.pk)]


def test_search_never_crosses_workspaces(admin_client, outsider):
    theirs = ConversationFactory(workspace=outsider.workspace)
    MessageFactory(conversation=theirs, content="envío secreto")

    assert found(admin_client, "envio") == []


# --- the plan on PostgreSQL ----------------------------------------------------------------------


def _plan(queryset) -> str:
    return _explain(*queryset.query.sql_with_params())


def _explain(sql: str, params=()) -> str:
    with connection.cursor() as cursor:
        for table in ("conversations_message", "conversations_contact"):
            cursor.execute(f"ANALYZE {table}")  # real statistics, not an empty table's guess
        # With sequential scans priced out, an index that cannot serve the expression shows.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params or None)
        return "\n".join(row[0] for row in cursor.fetchall())


def _conversations_with_messages(workspace, count: int) -> None:
    for n in range(count):
        conversation = ConversationFactory(workspace=workspace)
        MessageFactory(conversation=conversation, content=f"Factura del pedido {n}")


@pytest.mark.postgres
def test_a_rare_word_is_found_through_the_message_index_and_joined_by_id(workspace):
    admin = UserFactory(workspace=workspace, role="admin")
    _conversations_with_messages(workspace, 500)
    wanted = ConversationFactory(workspace=workspace)
    MessageFactory(conversation=wanted, content="¿Cuánto tarda el envío a Mérida?")
    filters = ConversationFilters(search="ENVÍO merid")

    with CaptureQueriesContext(connection) as queries:
        page = conversation_list_for(user=admin, filters=filters)[:30]
    found = list(page)

    # The probe (the one query that reads messages) goes through the GIN index ...
    (probe,) = [
        q["sql"] for q in queries.captured_queries if "message_search" in _explain(q["sql"])
    ]
    assert "Bitmap Index Scan on message_search_gin" in _explain(probe)
    # ... and the page itself joins the conversations it found by primary key.
    assert "conversations_message" not in _plan(page)
    assert [conversation.pk for conversation in found] == [wanted.pk]


@pytest.mark.postgres
def test_a_common_word_is_checked_conversation_by_conversation(workspace, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_PROBE", 50)
    admin = UserFactory(workspace=workspace, role="admin")
    _conversations_with_messages(workspace, 200)
    elsewhere = ConversationFactory(workspace=workspace, contact__name="Pedido Ramírez")

    page = conversation_list_for(user=admin, filters=ConversationFilters(search="PEDIDO"))

    # Walking the list in its order, each conversation asks for one matching message.
    plan = _plan(page[:30])
    assert "Index Scan using message_thread" in plan
    assert "Bitmap Index Scan on message_search_gin" not in plan
    assert page.count() == 201  # every conversation with the word, and the contact's name
    assert elsewhere in page
    assert not conversation_list_for(
        user=admin, filters=ConversationFilters(search="pedido ornitorrinco")
    ).exists()


@pytest.mark.postgres
def test_the_contact_search_condition_can_use_the_trigram_index(workspace):
    # Whether the planner prefers it over the workspace index depends on the statistics; what
    # must hold is that the condition spells the indexed expression, so the index can serve it.
    for n in range(500):
        ContactFactory(workspace=workspace, name=f"Cliente {n}")
    ContactFactory(workspace=workspace, name="José Pérez")
    condition = contains_every_term(FoldedContactText(), search_terms("PEREZ jose"))

    plan = _plan(Contact.objects.filter(condition))

    assert "Bitmap Index Scan on contact_search_trgm" in plan
    assert [contact.name for contact in Contact.objects.filter(condition)] == ["José Pérez"]


@pytest.mark.postgres
def test_a_common_name_fragment_is_checked_on_each_conversation_s_contact(workspace, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_PROBE", 20)
    admin = UserFactory(workspace=workspace, role="admin")
    for n in range(30):
        ConversationFactory(workspace=workspace, contact__name=f"Ana Ibáñez {n}")
    by_message = ConversationFactory(workspace=workspace)
    MessageFactory(conversation=by_message, content="Soy de la familia Ibañez")
    _conversations_with_messages(workspace, 10)

    page = conversation_list_for(user=admin, filters=ConversationFilters(search="IBAÑ"))

    assert page.count() == 31  # the 30 contacts, and the one message that names the family
    assert by_message in page
