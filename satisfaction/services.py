"""Satisfaction writes: send the survey when a conversation is resolved, record the ratings."""

from __future__ import annotations

from dataclasses import replace

from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from accounts.switches import CSAT_SURVEY
from conversations import activity as history
from conversations.models import ContactIdentity, Conversation, Message
from conversations.services import (
    InboundMessage,
    OutboundDraft,
    activity_record,
    contact_for_identity,
    message_receive_in_thread,
    message_store_outbound,
    system_event,
)
from conversations.window import messaging_window
from flame.exceptions import InvalidInput
from satisfaction import csat
from satisfaction.models import MAX_SCORE, MIN_SCORE, SatisfactionRating, SatisfactionSurvey
from satisfaction.selectors import survey_for_answer, surveys_awaiting_answer
from satisfaction.serializers import RatingSerializer

COMMENT_MAX_LENGTH = 1000


def _inside_reply_window(conversation: Conversation) -> bool:
    """A survey after the platform's customer-service window would fail there: not sent. The
    survey is the assistant's message, so a human agent's extension does not count."""
    return messaging_window(conversation, sender=Message.Sender.ASSISTANT).open


def _customer_blocked_us(conversation: Conversation) -> bool:
    # Surveys go to conversations on a channel: the integration is there (a nullable column).
    return ContactIdentity.objects.filter(
        integration_id=conversation.integration_id,  # type: ignore[misc]
        contact_id=conversation.contact_id,
        metadata__blocked=True,
    ).exists()


def _survey_pending(conversation: Conversation) -> bool:
    return surveys_awaiting_answer().filter(conversation=conversation).exists()


def _wants_survey(conversation: Conversation) -> bool:
    """Surveys only where someone helped the customer and the channel can still reach them;
    resolving, reopening and resolving again does not ask twice while one is unanswered."""
    return (
        CSAT_SURVEY.is_on(conversation.workspace)
        and conversation.integration_id is not None
        and conversation.first_response_at is not None
        and _inside_reply_window(conversation)
        and not _survey_pending(conversation)
        and not _customer_blocked_us(conversation)
    )


def survey_send_on_resolve(*, conversation: Conversation) -> SatisfactionSurvey | None:
    """Ask the customer to rate the conversation just resolved (inside the caller's
    transaction: the survey, its message and the resolution commit together)."""
    if not _wants_survey(conversation):
        return None
    survey = SatisfactionSurvey.objects.create(
        workspace_id=conversation.workspace_id,
        conversation=conversation,
        agent_id=conversation.assigned_agent_id,
        assistant_id=conversation.assigned_assistant_id,
    )
    language = conversation.workspace.language
    message = message_store_outbound(
        conversation=conversation,
        sender=Message.Sender.ASSISTANT,
        draft=OutboundDraft(
            content=csat.survey_text(language),
            type=Message.Type.INTERACTIVE,
            metadata=csat.survey_metadata(survey.pk, language),
        ),
    )
    SatisfactionSurvey.objects.filter(pk=survey.pk).update(message=message)
    activity_record(conversation=conversation, kind=history.SURVEY_SENT)
    return survey


@transaction.atomic
def rating_from_customer(*, survey: SatisfactionSurvey, score: int) -> SatisfactionRating:
    """The customer's answer; answering again (another button) changes the score."""
    rating, created = SatisfactionRating.objects.update_or_create(
        survey=survey,
        defaults={
            "workspace_id": survey.workspace_id,
            "conversation_id": survey.conversation_id,
            "score": score,
            "agent_id": survey.agent_id,
            "assistant_id": survey.assistant_id,
            "source": SatisfactionRating.Source.CUSTOMER,
        },
    )
    SatisfactionSurvey.objects.filter(pk=survey.pk).update(
        answered_at=Coalesce("answered_at", timezone.now())
    )
    if created:  # a second button press changes the score; it is not another rating
        _announce(rating)
    return rating


def _announce(rating: SatisfactionRating) -> SatisfactionRating:
    """Outgoing webhooks' ``rating.created``, in the rating's transaction."""
    system_event(
        workspace_id=rating.workspace_id,
        kind="rating:created",
        payload={"rating": RatingSerializer(rating).data},
    )
    return rating


def _validated(score, comment) -> tuple[int, str]:
    problems: dict[str, list[str]] = {}
    if isinstance(score, bool) or not isinstance(score, int) or not MIN_SCORE <= score <= MAX_SCORE:
        problems["score"] = [f"A whole number from {MIN_SCORE} to {MAX_SCORE}."]
    if not isinstance(comment, str):
        problems["comment"] = ["Must be text."]
    elif len(comment) > COMMENT_MAX_LENGTH:
        problems["comment"] = [f"At most {COMMENT_MAX_LENGTH} characters."]
    if problems:
        raise InvalidInput("Invalid input.", details=problems)
    return score, comment.strip()


@transaction.atomic
def rating_record(*, by: User, conversation: Conversation, score, comment="") -> SatisfactionRating:
    """A rating an agent records for the customer (told by phone, say). It answers the
    conversation's pending survey when there is one, so the response rate counts it once."""
    score, comment = _validated(score, comment)
    survey = (
        surveys_awaiting_answer()
        .select_for_update()
        .filter(conversation=conversation)
        .order_by("-sent_at")
        .first()
    )
    fields = {
        "workspace_id": conversation.workspace_id,
        "conversation_id": conversation.pk,
        "score": score,
        "comment": comment,
        "agent_id": survey.agent_id if survey else conversation.assigned_agent_id,
        "assistant_id": survey.assistant_id if survey else conversation.assigned_assistant_id,
        "source": SatisfactionRating.Source.AGENT,
        "recorded_by": by,
    }
    if survey is None:
        return _announce(SatisfactionRating.objects.create(**fields))
    SatisfactionSurvey.objects.filter(pk=survey.pk).update(answered_at=timezone.now())
    return _announce(SatisfactionRating.objects.create(survey=survey, **fields))


def _answered_survey(integration, inbound: InboundMessage):
    """The survey ``inbound`` answers and its answer, or None for an ordinary message."""
    answer = csat.answer_in(inbound.content, inbound.metadata)
    if answer is None:
        return None
    contact = contact_for_identity(integration, inbound)
    survey = survey_for_answer(integration=integration, contact=contact, answer=answer)
    return None if survey is None else (survey, answer)


def _answer_store(integration, inbound: InboundMessage, survey, answer) -> Message | None:
    if inbound.content.startswith(csat.PAYLOAD_PREFIX):  # Telegram shows the raw callback data
        inbound = replace(inbound, content=csat.label_for(answer.score))
    message = message_receive_in_thread(
        integration=integration, conversation=survey.conversation, inbound=inbound
    )
    if message is not None:  # None: a repeated delivery, rated already
        rating_from_customer(survey=survey, score=answer.score)
    return message


def survey_answers_receive(
    *, integration, inbounds: list[InboundMessage]
) -> tuple[list[Message], list[InboundMessage]]:
    """Customer messages that answer a satisfaction survey (a rating button, "5", "4 estrellas")
    become ratings. They are kept in the surveyed conversation's thread without reopening it,
    counting as unread or waiting, or waking an assistant. Returns the answers stored and the
    messages that are no answer, for the ordinary path."""
    answered: list[Message] = []
    rest: list[InboundMessage] = []
    for inbound in inbounds:
        found = _answered_survey(integration, inbound)
        if found is None:
            rest.append(inbound)
        elif (message := _answer_store(integration, inbound, *found)) is not None:
            answered.append(message)
    return answered, rest
