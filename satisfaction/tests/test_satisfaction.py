"""CSAT end to end on the sandbox channel, the rating endpoint and the satisfaction report."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.tests.helpers import get_report, local
from assistants.tests.factories import AssistantFactory
from conversations.models import Conversation, Message
from conversations.tests.factories import ConversationFactory
from integrations.tests.factories import IntegrationFactory
from satisfaction import csat
from satisfaction.models import SatisfactionRating, SatisfactionSurvey
from satisfaction.tests.factories import RatingFactory, SurveyFactory

pytestmark = pytest.mark.django_db

WINDOW = {"from": "2026-11-10", "to": "2026-11-16"}


# --- the flow on the sandbox channel ------------------------------------------------------------


@pytest.fixture
def sandbox(workspace):
    workspace.settings = {csat.SURVEY_SETTING: True}
    workspace.save(update_fields=["settings"])
    return IntegrationFactory(workspace=workspace, platform="sandbox", external_account_id="sb")


@pytest.fixture
def greeter(workspace):
    """An always-on auto-reply assistant: it must stay silent for a survey answer."""
    return AssistantFactory(workspace=workspace, name="Greeter", auto_response="¡Hola!")


def _customer_says(client, sandbox, text, capture):
    with capture(execute=True):
        response = client.post(
            f"/api/webhooks/sandbox/{sandbox.pk}",
            {"from": "cliente-1", "name": "Carla", "text": text},
            format="json",
        )
    assert response.status_code == 202


def _helped_and_resolved(admin_client, agent_user, sandbox, greeter, capture) -> Conversation:
    _customer_says(admin_client, sandbox, "¿Tienen talla M?", capture)
    conversation = Conversation.objects.get()
    Conversation.objects.filter(pk=conversation.pk).update(
        assigned_agent=agent_user, assigned_assistant=greeter
    )
    with capture(execute=True):
        admin_client.post(
            f"/api/conversations/{conversation.pk}/messages", {"content": "Sí"}, format="json"
        )
        response = admin_client.post(
            f"/api/conversations/{conversation.pk}/status", {"status": "resolved"}, format="json"
        )
    assert response.status_code == 200
    return conversation


def test_resolving_sends_the_survey_and_a_digit_answer_becomes_a_rating(
    admin_client, agent_user, sandbox, greeter, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    conversation = _helped_and_resolved(admin_client, agent_user, sandbox, greeter, capture)

    survey = SatisfactionSurvey.objects.get()
    assert (survey.conversation_id, survey.agent, survey.assistant) == (
        conversation.pk,
        agent_user,
        greeter,
    )
    question = survey.message
    assert (question.sender, question.type, question.status) == ("assistant", "interactive", "sent")
    assert question.content.startswith("¿Cómo calificarías")  # the workspace speaks Spanish
    assert [choice["title"] for choice in question.metadata["quick_replies"]] == [
        "1 ⭐",
        "2 ⭐",
        "3 ⭐",
        "4 ⭐",
        "5 ⭐",
    ]
    before = Conversation.objects.get(pk=conversation.pk)
    replies_before = Message.objects.filter(sender="assistant").count()

    _customer_says(admin_client, sandbox, " 4 ", capture)

    rating = SatisfactionRating.objects.get()
    assert (rating.score, rating.source, rating.survey_id) == (4, "customer", survey.pk)
    assert (rating.agent, rating.assistant) == (agent_user, greeter)
    after = Conversation.objects.get(pk=conversation.pk)
    assert after.status == "resolved"
    assert (after.unread_count, after.last_message_sender) == (
        before.unread_count,
        before.last_message_sender,
    )
    assert after.message_count == before.message_count + 1  # kept in the thread
    assert Message.objects.filter(sender="assistant").count() == replies_before  # no auto-reply
    survey.refresh_from_db()
    assert survey.answered_at is not None


def test_a_later_message_after_the_rating_reopens_the_conversation_as_usual(
    admin_client, agent_user, sandbox, greeter, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    conversation = _helped_and_resolved(admin_client, agent_user, sandbox, greeter, capture)
    _customer_says(admin_client, sandbox, "5", capture)

    _customer_says(admin_client, sandbox, "5", capture)  # no survey pending: a normal message

    conversation.refresh_from_db()
    assert conversation.status == "active"
    assert SatisfactionRating.objects.count() == 1


def test_no_survey_when_the_setting_is_off(
    admin_client, agent_user, sandbox, greeter, workspace, django_capture_on_commit_callbacks
):
    workspace.settings = {}
    workspace.save(update_fields=["settings"])

    _helped_and_resolved(
        admin_client, agent_user, sandbox, greeter, django_capture_on_commit_callbacks
    )

    assert not SatisfactionSurvey.objects.exists()


def test_no_survey_when_nobody_answered_the_customer(
    admin_client, sandbox, django_capture_on_commit_callbacks
):
    _customer_says(admin_client, sandbox, "hola", django_capture_on_commit_callbacks)
    conversation = Conversation.objects.get()

    admin_client.post(
        f"/api/conversations/{conversation.pk}/status", {"status": "resolved"}, format="json"
    )

    assert not SatisfactionSurvey.objects.exists()


def test_resolving_again_while_a_survey_is_unanswered_does_not_ask_twice(
    admin_client, agent_user, sandbox, greeter, django_capture_on_commit_callbacks
):
    conversation = _helped_and_resolved(
        admin_client, agent_user, sandbox, greeter, django_capture_on_commit_callbacks
    )
    url = f"/api/conversations/{conversation.pk}/status"

    admin_client.post(url, {"status": "active"}, format="json")
    admin_client.post(url, {"status": "resolved"}, format="json")

    assert SatisfactionSurvey.objects.count() == 1


def test_whatsapp_survey_is_not_sent_outside_the_24_hour_window(workspace, admin_user):
    from satisfaction.services import survey_send_on_resolve

    workspace.settings = {csat.SURVEY_SETTING: True}
    workspace.save(update_fields=["settings"])
    conversation = ConversationFactory(
        workspace=workspace,
        platform="whatsapp",
        integration=IntegrationFactory(workspace=workspace, platform="whatsapp"),
        first_response_at=local("2026-11-10", 9),
        last_customer_message_at=local("2026-11-10", 9),
    )

    assert survey_send_on_resolve(conversation=conversation) is None


@pytest.mark.parametrize(
    ("content", "metadata", "expected"),
    [
        ("5", None, csat.Answer(5, None)),
        ("3⭐", None, csat.Answer(3, None)),
        ("4 estrellas", None, csat.Answer(4, None)),
        ("2/5", None, csat.Answer(2, None)),
        ("6", None, None),
        ("15", None, None),
        ("5 minutos más", None, None),
        ("Talla M", {"quick_reply_payload": "SIZE_M"}, None),
        ("1", {"reply_id": "menu:1"}, None),  # another button that happens to say 1
        ("x", {"callback_data": "csat:not-a-survey:5"}, None),
    ],
)
def test_what_counts_as_an_answer(content, metadata, expected):
    assert csat.answer_in(content, metadata) == expected


def test_button_payload_names_its_survey():
    survey = SurveyFactory.build()
    payload = csat.payload_for(survey.pk, 3)

    assert csat.answer_in("3 ⭐", {"callback_data": payload}) == csat.Answer(3, survey.pk)
    assert len(payload.encode()) <= 64


# --- POST /api/conversations/:id/rating ---------------------------------------------------------


@pytest.fixture
def conversation(workspace, agent_user):
    return ConversationFactory(workspace=workspace, assigned_agent=agent_user, status="resolved")


def test_agent_records_a_rating_which_answers_the_pending_survey(
    agent_client, agent_user, conversation
):
    survey = SurveyFactory(conversation=conversation)

    response = agent_client.post(
        f"/api/conversations/{conversation.pk}/rating",
        {"score": 3, "comment": "  Tardaron un poco  "},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["score"], body["comment"], body["source"]) == (3, "Tardaron un poco", "agent")
    assert (body["survey_id"], body["agent_id"]) == (str(survey.pk), str(agent_user.pk))
    survey.refresh_from_db()
    assert survey.answered_at is not None
    rating = SatisfactionRating.objects.get()
    assert rating.recorded_by == agent_user


def test_rating_without_a_survey_stands_alone(admin_client, conversation):
    response = admin_client.post(
        f"/api/conversations/{conversation.pk}/rating", {"score": 5}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["survey_id"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"score": 0}, "score"),
        ({"score": 6}, "score"),
        ({"score": "excellent"}, "score"),
        ({}, "score"),
        ({"score": 4, "comment": "x" * 1001}, "comment"),
    ],
)
def test_bad_rating_is_400_and_records_nothing(admin_client, conversation, body, field):
    response = admin_client.post(
        f"/api/conversations/{conversation.pk}/rating", body, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not SatisfactionRating.objects.exists()


def test_rating_another_workspaces_conversation_is_404(outsider_client, conversation):
    response = outsider_client.post(
        f"/api/conversations/{conversation.pk}/rating", {"score": 5}, format="json"
    )

    assert response.status_code == 404
    assert not SatisfactionRating.objects.exists()


def test_agent_cannot_rate_a_conversation_assigned_to_someone_else(other_agent, conversation):
    from conftest import api_client_for

    response = api_client_for(other_agent).post(
        f"/api/conversations/{conversation.pk}/rating", {"score": 1}, format="json"
    )

    assert response.status_code == 404
    assert not SatisfactionRating.objects.exists()


# --- GET /api/analytics/satisfaction ------------------------------------------------------------


@pytest.fixture
def rated(workspace, agent_user, other_agent, outsider):
    bot = AssistantFactory(workspace=workspace, name="Bot")
    mine = ConversationFactory(workspace=workspace, assigned_agent=agent_user)
    theirs = ConversationFactory(workspace=workspace, assigned_agent=other_agent)
    by_bot = ConversationFactory(workspace=workspace, assigned_assistant=bot)
    # Surveys sent in the window: four; three answered.
    answered_1 = SurveyFactory(
        conversation=mine, sent_at=local("2026-11-10", 9), answered_at=local("2026-11-10", 9, 5)
    )
    answered_2 = SurveyFactory(
        conversation=theirs, sent_at=local("2026-11-12", 9), answered_at=local("2026-11-12", 10)
    )
    answered_3 = SurveyFactory(
        conversation=by_bot, sent_at=local("2026-11-16", 23), answered_at=local("2026-11-16", 23)
    )
    SurveyFactory(conversation=mine, sent_at=local("2026-11-14", 9))
    RatingFactory(
        conversation=mine, survey=answered_1, score=5, created_at=local("2026-11-10", 9, 5)
    )
    RatingFactory(
        conversation=theirs, survey=answered_2, score=2, created_at=local("2026-11-12", 10)
    )
    # 23:30 in Mexico City on the 16th is the 17th in UTC: still inside the window.
    RatingFactory(
        conversation=by_bot, survey=answered_3, score=4, created_at=local("2026-11-16", 23, 30)
    )
    RatingFactory(  # recorded by an agent, no survey
        conversation=mine, score=4, source="agent", created_at=local("2026-11-11", 12)
    )
    # Outside the window (the local 17th and the 9th), and another workspace.
    RatingFactory(conversation=mine, score=1, created_at=local("2026-11-17", 0, 30))
    RatingFactory(conversation=theirs, score=1, created_at=local("2026-11-09", 23, 59))
    RatingFactory(
        conversation=ConversationFactory(workspace=outsider.workspace),
        score=1,
        created_at=local("2026-11-12", 12),
    )
    return bot


def test_admin_gets_the_workspace_satisfaction(admin_client, rated, agent_user, other_agent):
    response = get_report(admin_client, "satisfaction", **WINDOW)

    assert response.status_code == 200
    assert response.json() == {
        "from": "2026-11-10",
        "to": "2026-11-16",
        "average": 3.75,  # (5 + 2 + 4 + 4) / 4
        "ratings": 4,
        "distribution": {"1": 0, "2": 1, "3": 0, "4": 2, "5": 1},
        "surveys_sent": 4,
        "responses": 3,
        "response_rate": 0.75,
        "by_agent": [
            {"agent_id": str(agent_user.pk), "name": "Aldo Agent", "average": 4.5, "ratings": 2},
            {
                "agent_id": str(other_agent.pk),
                "name": other_agent.name,
                "average": 2.0,
                "ratings": 1,
            },
        ],
        "by_assistant": [
            {"assistant_id": str(rated.pk), "name": "Bot", "average": 4.0, "ratings": 1}
        ],
    }


def test_agent_gets_only_their_own_satisfaction(agent_client, rated, agent_user):
    body = get_report(agent_client, "satisfaction", **WINDOW).json()

    assert (body["average"], body["ratings"], body["surveys_sent"], body["responses"]) == (
        4.5,
        2,
        2,
        1,
    )
    assert [row["agent_id"] for row in body["by_agent"]] == [str(agent_user.pk)]
    assert body["by_assistant"] == []


def test_outsider_sees_only_their_workspace(outsider_client, rated):
    body = get_report(outsider_client, "satisfaction", **WINDOW).json()

    assert (body["ratings"], body["distribution"]["1"]) == (1, 1)


def test_empty_window_has_no_average_and_no_rate(admin_client):
    body = get_report(admin_client, "satisfaction", **WINDOW).json()

    assert (body["average"], body["ratings"], body["response_rate"]) == (None, 0, None)


@pytest.mark.parametrize(
    "params",
    [{"from": "2026-13-01"}, {"from": "2026-11-16", "to": "2026-11-10"}, {"to": "yesterday"}],
)
def test_bad_parameters_are_400(admin_client, params):
    response = get_report(admin_client, "satisfaction", **params)

    assert response.status_code == 400


def test_anonymous_is_refused(anonymous_client):
    assert get_report(anonymous_client, "satisfaction", **WINDOW).status_code == 401


def test_query_count_does_not_grow_with_ratings(admin_client, workspace, agent_user):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert get_report(admin_client, "satisfaction", **WINDOW).status_code == 200
        return len(captured)

    RatingFactory(conversation=ConversationFactory(workspace=workspace, assigned_agent=agent_user))
    one = queries()
    for _ in range(20):
        conversation = ConversationFactory(
            workspace=workspace,
            assigned_agent=agent_user,
            assigned_assistant=AssistantFactory(workspace=workspace),
        )
        RatingFactory(conversation=conversation, created_at=local("2026-11-12", 12))
    assert queries() == one


def test_a_conversations_ratings_newest_first(agent_client, conversation):
    older = RatingFactory(conversation=conversation, score=2, created_at=local("2026-11-10", 9))
    newer = RatingFactory(conversation=conversation, score=5, created_at=local("2026-11-11", 9))

    response = agent_client.get(f"/api/conversations/{conversation.pk}/rating")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(newer.pk), str(older.pk)]


def test_another_workspaces_ratings_are_404(outsider_client, conversation):
    RatingFactory(conversation=conversation)

    response = outsider_client.get(f"/api/conversations/{conversation.pk}/rating")

    assert response.status_code == 404
