from __future__ import annotations

import factory

from accounts.models import DateOverride, User, Workspace

DEFAULT_PASSWORD = "correct-horse-battery-9"


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")
    timezone = "America/Mexico_City"
    language = "es"
    plan = "pro"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    role = User.Role.AGENT
    workspace = factory.SubFactory(WorkspaceFactory)

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or DEFAULT_PASSWORD)
        if create:
            self.save(update_fields=["password"])


class DateOverrideFactory(factory.django.DjangoModelFactory):
    """A date closed all day, set by hand (give ``closed=False, opens=…, closes=…`` for hours)."""

    class Meta:
        model = DateOverride

    workspace = factory.SubFactory(WorkspaceFactory)
    closed = True
    name = "Holiday"
