from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.tests.helpers import get_report, local
from assistants.schedule import workspace_zone
from conversations import services
from conversations.models import Conversation, Message
from conversations.services import InboundMessage
from conversations.tests.factories import ConversationFactory, MessageFactory
from integrations.inbound import customer_message_receive
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

WINDOW = {"from": "2026-11-10", "to": "2026-11-16"}


def _zeros(keys) -> dict:
    return dict.fromkeys(keys, 0)


STATUSES = ("active", "pending", "resolved", "archived")
PLATFORMS = ("whatsapp", "facebook", "instagram", "telegram", "sandbox")
PRIORITIES = ("low", "medium", "high", "urgent")


def _figures(*, total=0, status=None, platform=None, priority=None) -> dict:
    return {
        "total": total,
        "by_status": {**_zeros(STATUSES), **(status or {})},
        "by_platform": {**_zeros(PLATFORMS), **(platform or {})},
        "by_priority": {**_zeros(PRIORITIES), **(priority or {})},
    }


@pytest.fixture
def conversations(workspace, agent_user, other_agent, outsider):
    replied = ConversationFactory(
        workspace=workspace,
        platform="whatsapp",
        status="active",
        priority="high",
        ai_priority="high",
        assigned_agent=agent_user,
        created_at=local("2026-11-10", 9),
    )
    MessageFactory(conversation=replied, sender="user", created_at=local("2026-11-10", 9))
    MessageFactory(conversation=replied, sender="agent", created_at=local("2026-11-10", 9, 10))
    # 23:30 in Mexico City is 05:30 UTC on the 17th: still the local 16th, inside the window.
    late_night = ConversationFactory(
        workspace=workspace,
        platform="telegram",
        status="pending",
        assigned_agent=other_agent,
        created_at=local("2026-11-16", 23, 30),
    )
    MessageFactory(
        conversation=late_night, sender="assistant", created_at=local("2026-11-16", 23, 30)
    )
    MessageFactory(conversation=late_night, sender="user", created_at=local("2026-11-16", 23, 40))
    # The local 17th: after the window, in no period.
    ConversationFactory(workspace=workspace, created_at=local("2026-11-17", 0, 30))
    # The local 9th (UTC 10th): the previous period.
    ConversationFactory(
        workspace=workspace,
        platform="sandbox",
        status="resolved",
        priority="urgent",
        ai_priority="urgent",
        created_at=local("2026-11-09", 23, 30),
    )
    ConversationFactory(workspace=outsider.workspace, created_at=local("2026-11-12", 12))


def test_admin_sees_the_workspace_figures_and_the_previous_period(admin_client, conversations):
    # when
    response = get_report(admin_client, "dashboard", **WINDOW)

    # then
    assert response.status_code == 200
    assert response.json() == {
        "from": "2026-11-10",
        "to": "2026-11-16",
        **_figures(
            total=2,
            status={"active": 1, "pending": 1},
            platform={"whatsapp": 1, "telegram": 1},
            priority={"high": 1, "medium": 1},
        ),
        "unreplied": 1,
        "previous": {
            "from": "2026-11-03",
            "to": "2026-11-09",
            **_figures(
                total=1, status={"resolved": 1}, platform={"sandbox": 1}, priority={"urgent": 1}
            ),
        },
    }


def test_agent_sees_only_their_own_conversations(agent_client, conversations):
    response = get_report(agent_client, "dashboard", **WINDOW)

    assert response.status_code == 200
    body = response.json()
    assert {
        key: body[key] for key in ("total", "by_status", "by_platform", "by_priority")
    } == _figures(total=1, status={"active": 1}, platform={"whatsapp": 1}, priority={"high": 1})
    assert body["unreplied"] == 0
    assert body["previous"]["total"] == 0


def test_outsider_sees_only_their_own_workspace(outsider_client, conversations):
    response = get_report(outsider_client, "dashboard", **WINDOW)

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    assert body["by_platform"]["sandbox"] == 1
    assert body["by_priority"]["medium"] == 1
    assert body["previous"]["total"] == 0


def test_anonymous_is_refused(anonymous_client):
    assert get_report(anonymous_client, "dashboard").status_code == 401


# --- one priority rule, one "waiting" rule -------------------------------------------------------


def test_priority_breakdown_agrees_with_the_list_filter(admin_client, workspace):
    analysed = [ConversationFactory(workspace=workspace) for _ in range(3)]
    for conversation in analysed:
        services.conversation_record_analysis(
            conversation_id=conversation.pk,
            summary="Pedido urgente",
            priority="high",
            tags=["shipping"],
            analyzed_at=timezone.now(),
        )
    # An agent decided otherwise for one of them; another was never analysed.
    admin_client.patch(f"/api/conversations/{analysed[0].pk}", {"priority": "low"}, format="json")
    ConversationFactory(workspace=workspace)
    today = timezone.localdate(timezone=workspace_zone(workspace.timezone)).isoformat()

    dashboard = get_report(admin_client, "dashboard", **{"from": today, "to": today}).json()

    assert dashboard["by_priority"] == {"low": 1, "medium": 1, "high": 2, "urgent": 0}
    for priority, count in dashboard["by_priority"].items():
        listed = admin_client.get("/api/conversations", {"priority": priority}).json()["results"]
        assert len(listed) == count, priority


def test_unreplied_counts_every_open_conversation_waiting_for_an_agent_whatever_its_age(
    admin_client, admin_user, workspace, outsider
):
    sandbox = IntegrationFactory(workspace=workspace, platform="sandbox")

    def customer_writes(customer: str, text: str) -> Conversation:
        inbound = InboundMessage(external_contact_id=customer, external_id=customer, content=text)
        return customer_message_receive(integration=sandbox, inbound=inbound).message.conversation

    long_ago = customer_writes("a", "¿Alguien me atiende?")
    Conversation.objects.filter(pk=long_ago.pk).update(
        created_at=timezone.now() - timedelta(days=400)
    )
    bot_only = customer_writes("b", "Necesito ayuda")
    services.message_store_outbound(
        conversation=bot_only,
        sender=Message.Sender.ASSISTANT,
        draft=services.OutboundDraft(content="Alguien te responderá pronto."),
    )
    answered = customer_writes("c", "Hola")
    services.message_send_agent(
        by=admin_user, conversation=answered, draft=services.OutboundDraft(content="¡Hola!")
    )
    closed = customer_writes("d", "Gracias")
    services.conversation_set_status(by=admin_user, conversation=closed, status="resolved")
    elsewhere = ConversationFactory(workspace=outsider.workspace)
    MessageFactory(conversation=elsewhere, sender="user")

    body = get_report(admin_client, "dashboard", **WINDOW).json()

    assert body["unreplied"] == 2
    assert "unreplied" not in body["previous"]
    waiting = admin_client.get("/api/conversations", {"waiting": "true"}).json()["results"]
    assert sorted(row["id"] for row in waiting) == sorted([str(long_ago.pk), str(bot_only.pk)])
