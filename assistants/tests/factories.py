from __future__ import annotations

from datetime import time

import factory
from django.utils import timezone

from accounts.tests.factories import WorkspaceFactory
from assistants.models import AIUsage, Assistant, KnowledgeDocument, Schedule


class AssistantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assistant

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Assistant {n}")
    type = Assistant.Type.AUTO
    auto_response = "¡Hola! Te respondemos en breve."


class AIAssistantFactory(AssistantFactory):
    type = Assistant.Type.AI
    ai_prompt = "Eres el asistente de ventas de una pastelería. Responde breve."
    auto_response = "Gracias, una persona te responde en breve."
    model = "gpt-4o-mini"
    temperature = 0.3
    max_tokens = 200


class ScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Schedule

    assistant = factory.SubFactory(AssistantFactory)
    day_of_week = 1
    start_time = time(9)
    end_time = time(18)


class KnowledgeDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KnowledgeDocument

    assistant = factory.SubFactory(AIAssistantFactory)
    title = factory.Sequence(lambda n: f"Document {n}")
    content = "Abrimos de lunes a viernes de 9:00 a 19:00."


class AIUsageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AIUsage

    workspace = factory.SubFactory(WorkspaceFactory)
    purpose = AIUsage.Purpose.REPLY
    provider = "openai"
    model = "gpt-4o-mini"
    prompt_tokens = 100
    completion_tokens = 20
    cost = "0.000027"
    latency_ms = 300
    created_at = factory.LazyFunction(timezone.now)
