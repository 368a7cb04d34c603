from __future__ import annotations

import factory

from accounts.tests.factories import WorkspaceFactory
from integrations.models import Integration


class IntegrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Integration

    workspace = factory.SubFactory(WorkspaceFactory)
    platform = "sandbox"
    name = factory.Sequence(lambda n: f"Channel {n}")
    status = Integration.Status.ACTIVE
    external_account_id = factory.Sequence(lambda n: f"acct-{n}")
    credentials = factory.LazyFunction(dict)
