"""The satisfaction survey's wire format: what we send and how an answer is recognised.

A survey goes out as an interactive message whose ``metadata.quick_replies`` each channel renders
natively (WhatsApp list or reply buttons, Telegram inline keyboard, Messenger/Instagram quick
replies); its text also asks for a digit, which is all a channel without buttons shows. A button
answers with ``csat:<survey id hex>:<score>`` (39 bytes: inside Telegram's 64-byte
``callback_data``), so it names its survey even after the conversation moved on.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.utils import translation
from django.utils.translation import gettext as _

from accounts.switches import CSAT_SURVEY
from satisfaction.models import MAX_SCORE, MIN_SCORE

SURVEY_SETTING = CSAT_SURVEY.key
# A survey is answered within a week or not at all: a "5" typed a month later is a new message.
ANSWER_WINDOW = timedelta(days=7)
PAYLOAD_PREFIX = "csat:"
_PAYLOAD = re.compile(r"^csat:([0-9a-f]{32}):([1-5])$")
# "5", " 4 ", "3⭐", "5 stars", "4/5", "5 estrellas" — a short reply that is only a score.
_DIGIT_REPLY = re.compile(
    r"^\s*([1-5])\s*(?:/\s*5|⭐+|★+|stars?|estrellas?)?\s*[.!]?\s*$", re.IGNORECASE
)
# Where each channel's parser keeps the id of the button or quick reply the customer chose.
CHOICE_KEYS = (
    "reply_id",
    "callback_data",
    "quick_reply_payload",
    "postback_payload",
    "button_payload",
)


@dataclass(frozen=True)
class Answer:
    score: int
    survey_id: uuid.UUID | None  # None: a typed digit, valid only for a pending survey


def payload_for(survey_id: uuid.UUID, score: int) -> str:
    return f"{PAYLOAD_PREFIX}{survey_id.hex}:{score}"


def label_for(score: int) -> str:
    return f"{score} ⭐"


def survey_metadata(survey_id: uuid.UUID, language: str) -> dict:
    with translation.override(language):
        button = _("Rate")
    return {
        "csat_survey_id": str(survey_id),
        "quick_replies": [
            {"id": payload_for(survey_id, score), "title": label_for(score)}
            for score in range(MIN_SCORE, MAX_SCORE + 1)
        ],
        # WhatsApp shows more than three choices as a list behind a button with this text.
        "quick_replies_button": button,
    }


def survey_text(language: str) -> str:
    with translation.override(language):
        return _(
            "How would you rate the help you received? Reply with a number from 1 (bad) to "
            "5 (excellent)."
        )


def _choice(metadata: dict | None) -> str:
    for key in CHOICE_KEYS:
        value = (metadata or {}).get(key)
        if value:
            return str(value)
    return ""


def answer_in(content: str, metadata: dict | None) -> Answer | None:
    """The score a customer message carries, if it looks like a survey answer at all."""
    choice = _choice(metadata)
    if choice.startswith(PAYLOAD_PREFIX):
        matched = _PAYLOAD.match(choice)
        if matched is None:
            return None
        return Answer(score=int(matched.group(2)), survey_id=uuid.UUID(hex=matched.group(1)))
    if choice:
        return None  # some other button: not ours
    typed = _DIGIT_REPLY.match(content or "")
    return Answer(score=int(typed.group(1)), survey_id=None) if typed else None
