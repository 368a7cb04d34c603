"""flame.representation: the same output as the serializer's ``to_representation``, whatever the
field, on the real serializers of the hot path and on every case DRF treats specially."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers

from accounts.models import User
from accounts.tests.factories import UserFactory
from assistants.tests.factories import AssistantFactory
from conversations.models import Attachment, AttachmentKind, Conversation, Message
from conversations.serializers import (
    ConversationSerializer,
    MessageSerializer,
    conversation_data,
    message_data,
)
from conversations.tests.factories import ConversationFactory, MessageFactory, TagFactory
from flame.representation import representer

pytestmark = pytest.mark.django_db


def _conversations() -> list[Conversation]:
    bare = ConversationFactory(contact__name="", contact__phone="")
    busy = ConversationFactory(
        assigned_agent=UserFactory(role=User.Role.AGENT),
        ai_summary='Pide "factura" \\ ñ',
        ai_tags=["billing"],
        snoozed_until=timezone.now() + timedelta(hours=2),
        waiting_since=timezone.now() - timedelta(minutes=3),
    )
    busy.assigned_assistant = AssistantFactory(workspace=busy.workspace)
    busy.save()
    busy.tags.add(TagFactory(workspace=busy.workspace), TagFactory(workspace=busy.workspace))
    return list(
        Conversation.objects.select_related("contact", "assigned_agent", "assigned_assistant")
        .prefetch_related("tags")
        .filter(pk__in=[bare.pk, busy.pk])
    )


def test_conversations_are_represented_as_the_serializer_does():
    conversations = _conversations()

    for conversation in conversations:
        assert conversation_data(conversation) == (
            ConversationSerializer().to_representation(conversation)
        )
    busy = next(c for c in conversations if c.assigned_agent_id)
    assert conversation_data(busy)["assigned_agent"]["id"] == str(busy.assigned_agent_id)
    assert len(conversation_data(busy)["tags"]) == 2


def test_messages_are_represented_as_the_serializer_does():
    conversation = ConversationFactory()
    first = MessageFactory(conversation=conversation, metadata={"k": [1, None]})
    answer = MessageFactory(
        conversation=conversation,
        sender=Message.Sender.AGENT,
        author=UserFactory(workspace=conversation.workspace),
        reply_to=first,
        private=True,
    )
    Attachment.objects.create(
        message=first,
        workspace=conversation.workspace,
        kind=AttachmentKind.IMAGE,
        mime_type="image/jpeg",
        source_id="media-1",
    )

    for message in Message.objects.prefetch_related("attachments").filter(
        pk__in=[first.pk, answer.pk]
    ):
        assert message_data(message) == MessageSerializer().to_representation(message)
    assert message_data(answer)["reply_to_id"] == str(first.pk)


class _Child(serializers.Serializer):
    label = serializers.CharField()


class _Everything(serializers.Serializer):
    plain = serializers.CharField()
    number = serializers.IntegerField(source="child.count")
    skipped = serializers.CharField(required=False)  # absent: DRF leaves the key out
    nullable = serializers.CharField(source="absent", allow_null=True, read_only=True)
    defaulted = serializers.CharField(source="absent.deeper", default="por defecto")
    called = serializers.CharField(source="shout")  # a method: DRF calls it
    from_dict = serializers.CharField(source="data.key")  # a Mapping: read by key
    nested = _Child(source="child")
    nested_none = _Child(source="nobody", allow_null=True)
    listed = serializers.ListField(child=serializers.IntegerField())
    computed = serializers.SerializerMethodField()
    empty = serializers.CharField(allow_null=True)

    def get_computed(self, obj) -> str:
        return f"{obj.plain}!"


class _Obj:
    def __init__(self, **values) -> None:
        self.__dict__.update(values)

    def shout(self) -> str:
        return self.plain.upper()


def test_every_case_drf_treats_specially_comes_out_the_same():
    child = _Obj(label="niño", count=3)
    obj = _Obj(
        plain="hola",
        data={"key": "valor"},
        child=child,
        nobody=None,
        listed=[1, 2],
        empty=None,
    )
    serializer = _Everything()

    represented = representer(serializer)(obj)

    assert represented == serializer.to_representation(obj)
    assert "skipped" not in represented
    assert represented["nullable"] is None
    assert represented["defaulted"] == "por defecto"
    assert represented["called"] == "HOLA"
    assert represented["from_dict"] == "valor"
    assert represented["nested"] == {"label": "niño"}
    assert represented["nested_none"] is None
    assert represented["computed"] == "hola!"


def test_related_fields_keep_their_own_reading():
    class WithRelation(serializers.ModelSerializer):
        class Meta:
            model = Message
            fields = ("id", "conversation", "reply_to")

    message = MessageFactory()
    serializer = WithRelation()

    represented = representer(serializer)(message)

    assert represented == serializer.to_representation(message)
    assert represented["conversation"] == message.conversation_id
    assert represented["reply_to"] is None


def test_an_error_inside_a_property_is_not_swallowed():
    class Broken(serializers.Serializer):
        value = serializers.CharField()

    class Source:
        @property
        def value(self):
            raise ValueError("broken on purpose")

    with pytest.raises(ValueError, match="broken on purpose"):
        representer(Broken())(Source())


def test_threads_arriving_first_together_leave_one_set_of_fields():
    calls = []

    class Slow(serializers.Serializer):
        counted = serializers.SerializerMethodField()

        @property
        def _readable_fields(self):
            time.sleep(0.05)  # every thread is inside the first build at once
            return list(super()._readable_fields)

        def get_counted(self, obj) -> int:
            calls.append(obj)
            return len(calls)

    represent = representer(Slow())
    start = threading.Barrier(4)

    def first_call():
        start.wait()
        represent(object())

    threads = [threading.Thread(target=first_call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    calls.clear()

    represent(object())

    assert len(calls) == 1
