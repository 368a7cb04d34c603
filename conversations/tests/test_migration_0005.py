"""Migration 0005 gives existing conversations the new rules: the priority and tags agents set
stay theirs, the AI's fill the rest, and open conversations left unanswered are waiting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from flame.testing import migrate_to, schema_at

# PostgreSQL: going back to 0004 unapplies 0008, whose contact columns SQLite can only drop by
# rebuilding the table, and a rebuild recreates every index of the migration state, the
# PostgreSQL-only trigram index included. Forward migrations never rebuild it.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BEFORE = [("conversations", "0004_last_message_sender")]
AFTER = [("conversations", "0005_effective_priority_tags_waiting_folded_search")]


@pytest.fixture
def old_apps():
    with schema_at(BEFORE) as apps:
        yield apps


def test_existing_conversations_get_the_new_rules(old_apps):
    # given conversations as they were stored before the migration
    Workspace = old_apps.get_model("accounts", "Workspace")
    Contact = old_apps.get_model("conversations", "Contact")
    Conversation = old_apps.get_model("conversations", "Conversation")
    Message = old_apps.get_model("conversations", "Message")
    Tag = old_apps.get_model("conversations", "Tag")
    workspace = Workspace.objects.create(name="Tienda")
    now = timezone.now()

    def conversation(**fields):
        contact = Contact.objects.create(workspace=workspace, name="Cliente")
        return Conversation.objects.create(
            workspace=workspace, contact=contact, platform="sandbox", **fields
        )

    def message(conversation, sender, minutes_ago):
        return Message.objects.create(
            conversation=conversation,
            workspace=workspace,
            sender=sender,
            content="…",
            created_at=now - timedelta(minutes=minutes_ago),
        )

    by_agent = conversation(priority="low", ai_priority="urgent")
    by_agent.tags.add(Tag.objects.create(workspace=workspace, name="vip"))
    by_ai = conversation(ai_priority="high", ai_tags=["shipping", "VIP"])
    unanswered = conversation(last_agent_reply_at=now - timedelta(minutes=30))
    message(unanswered, "user", 40)
    message(unanswered, "agent", 30)
    first_unanswered = message(unanswered, "user", 20)
    message(unanswered, "assistant", 19)
    message(unanswered, "user", 10)
    answered = conversation(last_agent_reply_at=now - timedelta(minutes=5))
    message(answered, "user", 10)
    message(answered, "agent", 5)
    closed = conversation(status="resolved")
    message(closed, "user", 10)

    # when
    new_apps = migrate_to(AFTER)

    # then
    Conversation = new_apps.get_model("conversations", "Conversation")

    def stored(row):
        return Conversation.objects.get(pk=row.pk)

    agent_row, ai_row = stored(by_agent), stored(by_ai)
    assert (agent_row.priority, agent_row.priority_set_by_agent) == ("low", True)
    assert ([t.name for t in agent_row.tags.all()], agent_row.tags_set_by_agent) == (["vip"], True)
    assert (ai_row.priority, ai_row.priority_set_by_agent) == ("high", False)
    assert (sorted(t.name for t in ai_row.tags.all()), ai_row.tags_set_by_agent) == (
        ["shipping", "vip"],
        False,
    )
    assert stored(unanswered).waiting_since == first_unanswered.created_at
    assert stored(answered).waiting_since is None
    assert stored(closed).waiting_since is None
