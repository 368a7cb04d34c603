from __future__ import annotations

import factory

from accounts.tests.factories import WorkspaceFactory
from assistants.models import Assistant


class AssistantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assistant

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Assistant {n}")
    type = Assistant.Type.AUTO
    auto_response = "¡Hola! Te respondemos en breve."
