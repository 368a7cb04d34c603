"""Reads of satisfaction surveys and ratings used by the survey flow and the inbox panel.

(The satisfaction *report* — averages, rates, by agent — is an analytics report.)
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from conversations.models import Conversation
from satisfaction import csat
from satisfaction.models import SatisfactionRating, SatisfactionSurvey


def surveys_answerable() -> QuerySet[SatisfactionSurvey]:
    """Surveys still inside their answer window."""
    return SatisfactionSurvey.objects.filter(sent_at__gte=timezone.now() - csat.ANSWER_WINDOW)


def surveys_awaiting_answer() -> QuerySet[SatisfactionSurvey]:
    return surveys_answerable().filter(answered_at__isnull=True)


def survey_for_answer(*, integration, contact, answer: csat.Answer) -> SatisfactionSurvey | None:
    """The survey a customer message answers. A button names its survey (answerable again
    within the window, to change the score); a typed digit answers only the newest unanswered
    survey of a conversation that is still resolved."""
    customer = {"conversation__integration": integration, "conversation__contact": contact}
    if answer.survey_id is not None:
        surveys = surveys_answerable().filter(pk=answer.survey_id)
    else:
        surveys = surveys_awaiting_answer().filter(
            conversation__status=Conversation.Status.RESOLVED
        )
    return surveys.filter(**customer).select_related("conversation").order_by("-sent_at").first()


RATINGS_SHOWN = 20


def ratings_for_conversation(*, conversation: Conversation) -> list[SatisfactionRating]:
    """A conversation's ratings, newest first (the caller already resolved it in its scope)."""
    newest = SatisfactionRating.objects.filter(conversation=conversation).order_by("-created_at")
    return list(newest[:RATINGS_SHOWN])
