from __future__ import annotations

import factory
from django.db.models import Max, Min
from django.utils import timezone

from accounts.tests.factories import WorkspaceFactory
from conversations.models import Contact, Conversation, Message, Tag


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Faker("name")
    phone = factory.Sequence(lambda n: f"+52155{n:08d}")


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    workspace = factory.SubFactory(WorkspaceFactory)
    contact = factory.SubFactory(ContactFactory, workspace=factory.SelfAttribute("..workspace"))
    platform = "sandbox"
    last_message_at = factory.LazyFunction(timezone.now)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message
        skip_postgeneration_save = True

    conversation = factory.SubFactory(ConversationFactory)
    workspace = factory.SelfAttribute("conversation.workspace")
    sender = Message.Sender.USER
    content = factory.Faker("sentence")
    status = Message.Status.DELIVERED

    @factory.post_generation
    def newest_sender(self, create, extracted, **kwargs):
        """Keep the conversation's denormalized last sender and wait true, as the services do."""
        if not create:
            return
        thread = Message.objects.filter(conversation_id=self.conversation_id)
        answered = thread.filter(sender=Message.Sender.AGENT).aggregate(at=Max("created_at"))
        unanswered = thread.filter(sender=Message.Sender.USER)
        if answered["at"] is not None:
            unanswered = unanswered.filter(created_at__gt=answered["at"])
        Conversation.objects.filter(pk=self.conversation_id).update(
            last_message_sender=thread.latest("created_at").sender,
            waiting_since=unanswered.aggregate(at=Min("created_at"))["at"],
        )


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"tag-{n}")
