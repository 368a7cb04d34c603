"""Search ignores accents and case, on PostgreSQL and on SQLite, and on PostgreSQL it runs
through the indexes (GIN full-text over messages, trigram over contacts)."""

from __future__ import annotations

import pytest
from django.db import connection

from accounts.tests.factories import UserFactory
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
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        for table in ("conversations_message", "conversations_contact"):
            cursor.execute(f"ANALYZE {table}")  # real statistics, not an empty table's guess
        # With sequential scans priced out, an index that cannot serve the expression shows.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
def test_search_runs_through_the_message_and_contact_indexes(workspace):
    admin = UserFactory(workspace=workspace, role="admin")
    for n in range(500):
        conversation = ConversationFactory(workspace=workspace)
        MessageFactory(conversation=conversation, content=f"Factura del pedido {n}")
    MessageFactory(conversation=conversation, content="¿Cuánto tarda el envío a Mérida?")

    plan = _plan(
        conversation_list_for(user=admin, filters=ConversationFilters(search="ENVÍO merid"))[:30]
    )

    assert "Bitmap Index Scan on message_search_gin" in plan
    # The messages are read once, from the bitmap the GIN index built. (The contact side is a
    # semi-join on the conversation's own contact: the planner may well reach it by primary
    # key, so its trigram index is checked on the contact search below.)
    assert plan.count("on conversations_message ") == 1
    assert "Bitmap Heap Scan on conversations_message " in plan


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
