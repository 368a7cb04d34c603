from __future__ import annotations

import factory

from analytics.models import SatisfactionRating, SatisfactionSurvey
from conversations.tests.factories import ConversationFactory


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SatisfactionSurvey

    conversation = factory.SubFactory(ConversationFactory)
    workspace = factory.SelfAttribute("conversation.workspace")
    agent = factory.SelfAttribute("conversation.assigned_agent")
    assistant = factory.SelfAttribute("conversation.assigned_assistant")


class RatingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SatisfactionRating

    conversation = factory.SubFactory(ConversationFactory)
    workspace = factory.SelfAttribute("conversation.workspace")
    agent = factory.SelfAttribute("conversation.assigned_agent")
    assistant = factory.SelfAttribute("conversation.assigned_assistant")
    score = 5
