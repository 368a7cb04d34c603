from __future__ import annotations

import factory

from conversations.tests.factories import ConversationFactory
from satisfaction.models import SatisfactionRating, SatisfactionSurvey


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
