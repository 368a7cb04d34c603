"""Input shapes of the conversations API (output shapes: conversations/serializers.py)."""

from __future__ import annotations

from collections.abc import Mapping

from rest_framework import serializers

from conversations.models import ContactAttribute, Conversation, Message
from conversations.types import Platform

AI_NOT_ANALYSED = "none"  # ?ai_priority=none: conversations the AI has not analysed yet


class StrictInputSerializer(serializers.Serializer):
    """Refuses fields it does not know (400 naming them) instead of silently dropping them: a
    client must never believe a change was made, or a filter applied, when it was not."""

    # Names that other layers read from the same data (pagination's cursor and limit).
    also_accepted: tuple[str, ...] = ()

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            known = {*self.fields, *self.also_accepted}
            unknown = sorted(str(name) for name in data if name not in known)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field: not accepted here."] for name in unknown}
                )
        return super().to_internal_value(data)


def _csv_choices(value: str, choices, field: str) -> tuple[str, ...]:
    values = tuple(v.strip() for v in value.split(",") if v.strip())
    unknown = [v for v in values if v not in dict(choices)]
    if unknown:
        raise serializers.ValidationError({field: [f"Unknown value(s): {', '.join(unknown)}."]})
    return values


class ConversationFilterSerializer(StrictInputSerializer):
    also_accepted = ("cursor", "limit", "format")

    status = serializers.CharField(required=False)
    priority = serializers.CharField(
        required=False,
        help_text="Comma-separated. The conversation's priority: the agent's, else the AI's.",
    )
    ai_priority = serializers.CharField(
        required=False,
        help_text="Comma-separated. What the AI suggested; 'none': not analysed yet.",
    )
    platform = serializers.CharField(required=False)
    tag = serializers.CharField(required=False, max_length=100)
    assigned = serializers.CharField(required=False, max_length=64)
    waiting = serializers.BooleanField(
        required=False,
        default=None,
        allow_null=True,
        help_text="Open conversations whose customer waits for an agent's answer (true/false).",
    )
    snoozed = serializers.BooleanField(
        required=False,
        default=None,
        allow_null=True,
        help_text="Snoozed conversations (true) or those that are not (false).",
    )
    search = serializers.CharField(required=False, max_length=200)

    def validate_status(self, value: str):
        return _csv_choices(value, Conversation.Status.choices, "status")

    def validate_priority(self, value: str):
        return _csv_choices(value, Conversation.Priority.choices, "priority")

    def validate_ai_priority(self, value: str):
        choices = [*Conversation.Priority.choices, (AI_NOT_ANALYSED, "")]
        values = _csv_choices(value, choices, "ai_priority")
        return tuple("" if v == AI_NOT_ANALYSED else v for v in values)

    def validate_platform(self, value: str):
        return _csv_choices(value, Platform.choices, "platform")

    def validate_assigned(self, value: str) -> str:
        if value in ("me", "none"):
            return value
        try:
            return str(serializers.UUIDField().to_internal_value(value))
        except serializers.ValidationError as exc:
            raise serializers.ValidationError("Use me, none or an agent id.") from exc


def _tags_field(**options) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=20, **options
    )


class TemplateSendSerializer(StrictInputSerializer):
    """An approved template and what fills its placeholders, in the order they appear."""

    name = serializers.CharField(max_length=512)
    language = serializers.CharField(max_length=16, help_text="e.g. es_MX, en_US")
    header = serializers.ListField(
        child=serializers.CharField(max_length=1024),
        required=False,
        max_length=1,
        help_text="The header's parameter: its text, or an https link for a media header.",
    )
    body = serializers.ListField(
        child=serializers.CharField(max_length=1024), required=False, max_length=30
    )


class ConversationCreateSerializer(StrictInputSerializer):
    contact_name = serializers.CharField(max_length=200)
    contact_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    contact_email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    contact_external_id = serializers.CharField(
        max_length=256,
        required=False,
        allow_blank=True,
        help_text=(
            "The customer's id on the channel of integration_id: Telegram chat id, Messenger "
            "PSID, Instagram IGSID, WhatsApp wa_id (WhatsApp and the sandbox also take "
            "contact_phone instead)."
        ),
    )
    platform = serializers.ChoiceField(choices=Platform.choices)
    integration_id = serializers.UUIDField(required=False, allow_null=True)
    status = serializers.ChoiceField(
        choices=[
            (value, label)
            for value, label in Conversation.Status.choices
            if value in Conversation.OPEN_STATUSES
        ],
        required=False,
    )
    priority = serializers.ChoiceField(choices=Conversation.Priority.choices, required=False)
    tags = _tags_field()
    template = TemplateSendSerializer(
        required=False,
        help_text="An approved WhatsApp template to open the conversation with (how a business "
        "writes first).",
    )

    def validate(self, attrs):
        if attrs.get("template") and not attrs.get("integration_id"):
            raise serializers.ValidationError(
                {"template": ["Needs integration_id (the channel to send it on)."]}
            )
        if attrs.get("contact_external_id") and not attrs.get("integration_id"):
            raise serializers.ValidationError(
                {"contact_external_id": ["Needs integration_id (the channel it belongs to)."]}
            )
        return attrs


class ConversationUpdateSerializer(StrictInputSerializer):
    status = serializers.ChoiceField(choices=Conversation.Status.choices, required=False)
    priority = serializers.ChoiceField(
        choices=Conversation.Priority.choices,
        required=False,
        allow_null=True,
        help_text="Set by an agent, the AI no longer changes it; null gives it back to the AI.",
    )
    tags = _tags_field(
        allow_null=True,
        help_text="Set by an agent, the AI no longer changes them; null gives them back to it.",
    )
    assigned_agent_id = serializers.UUIDField(required=False, allow_null=True)
    assigned_assistant_id = serializers.UUIDField(required=False, allow_null=True)
    contact_name = serializers.CharField(max_length=200, required=False)
    contact_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    contact_email = serializers.EmailField(max_length=254, required=False, allow_blank=True)


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Conversation.Status.choices)


class AssignSerializer(serializers.Serializer):
    agent_id = serializers.UUIDField(required=False, allow_null=True)
    assistant_id = serializers.UUIDField(required=False, allow_null=True)

    def validate(self, attrs):
        if "agent_id" not in attrs and "assistant_id" not in attrs:
            raise serializers.ValidationError("Give agent_id or assistant_id (null unassigns).")
        return attrs


class TemplatePartSerializer(serializers.Serializer):
    format = serializers.CharField(help_text="TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION.")
    text = serializers.CharField()
    parameters = serializers.ListField(
        child=serializers.CharField(), help_text="Its placeholders ({{1}} or {{name}}), in order."
    )


class MessageTemplateChoiceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    language = serializers.CharField()
    category = serializers.CharField()
    status = serializers.CharField()
    header = TemplatePartSerializer(allow_null=True)
    body = TemplatePartSerializer()
    footer = serializers.CharField()


class MessageCreateSerializer(serializers.Serializer):
    content = serializers.CharField(
        max_length=4096, required=False, allow_blank=True, trim_whitespace=False
    )
    type = serializers.ChoiceField(
        choices=[
            Message.Type.TEXT,
            Message.Type.IMAGE,
            Message.Type.FILE,
            Message.Type.AUDIO,
            Message.Type.VIDEO,
        ],
        default=Message.Type.TEXT,
    )
    media_url = serializers.URLField(max_length=2000, required=False, allow_blank=True)
    reply_to = serializers.UUIDField(required=False, allow_null=True)
    private = serializers.BooleanField(
        default=False,
        help_text="A private note for the team (text only): never sent to the customer.",
    )
    file = serializers.FileField(
        required=False,
        allow_empty_file=False,
        help_text="A file to send (multipart); content is its caption. Its kind is read from "
        "the bytes unless type says image, video, audio or file.",
    )
    template = TemplateSendSerializer(
        required=False,
        help_text="An approved WhatsApp template; the only message allowed outside the window.",
    )

    def validate(self, attrs):
        if "template" in attrs and (
            attrs.get("file") or attrs.get("media_url") or attrs.get("content", "").strip()
        ):
            raise serializers.ValidationError({"template": ["Send a template on its own."]})
        if attrs.get("private") and (attrs.get("file") or "template" in attrs):
            raise serializers.ValidationError({"private": ["A note is text only."]})
        if attrs.get("file") or "template" in attrs:
            return attrs
        if attrs.get("private") and (
            attrs.get("media_url") or attrs.get("reply_to") or attrs["type"] != Message.Type.TEXT
        ):
            raise serializers.ValidationError({"private": ["A note is text only."]})
        if not attrs.get("content", "").strip() and not attrs.get("media_url"):
            raise serializers.ValidationError({"content": ["A message needs text or media."]})
        return attrs


class TagWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    color = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False)


class ContactUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    avatar_url = serializers.URLField(max_length=1000, required=False, allow_blank=True)
    metadata = serializers.DictField(required=False)
    note = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, trim_whitespace=False
    )
    attributes = serializers.DictField(
        required=False,
        help_text="Values by attribute key (see /api/contact-attributes); null or '' clears one.",
    )


class EventQuerySerializer(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, default=0)
    limit = serializers.IntegerField(min_value=1, max_value=500, default=200)


class EventSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.IntegerField()
    data = serializers.DictField()


class EventPageSerializer(serializers.Serializer):
    results = EventSerializer(many=True)
    last_id = serializers.IntegerField()
    has_more = serializers.BooleanField()


# --- the agent workbench: notes, snooze, bulk changes, contact panel, tags ----------------------


class NoteCreateSerializer(StrictInputSerializer):
    content = serializers.CharField(max_length=4096, trim_whitespace=False)

    def validate_content(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("A note needs text.")
        return value


class SnoozeSerializer(StrictInputSerializer):
    until = serializers.DateTimeField(
        allow_null=True,
        help_text="When it comes back; null: when the customer writes again.",
    )


class BulkSerializer(StrictInputSerializer):
    conversation_ids = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=100
    )
    action = serializers.ChoiceField(
        choices=["assign", "status", "priority", "add_tag", "remove_tag", "snooze"]
    )
    agent_id = serializers.UUIDField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=Conversation.Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Conversation.Priority.choices, required=False)
    tag = serializers.CharField(max_length=50, required=False)
    until = serializers.DateTimeField(required=False, allow_null=True)

    # The value each action needs (snooze's ``until`` may be null: until the customer writes).
    NEEDS = {
        "assign": "agent_id",
        "status": "status",
        "priority": "priority",
        "add_tag": "tag",
        "remove_tag": "tag",
        "snooze": "until",
    }

    def validate(self, attrs):
        needed = self.NEEDS[attrs["action"]]
        if needed not in attrs:
            raise serializers.ValidationError({needed: [f"Needed for {attrs['action']}."]})
        extra = sorted(set(self.NEEDS.values()) & set(attrs) - {needed})
        if extra:
            raise serializers.ValidationError(
                {name: [f"Not used by {attrs['action']}."] for name in extra}
            )
        if needed == "tag" and not attrs["tag"].strip():
            raise serializers.ValidationError({"tag": ["This field may not be blank."]})
        return attrs


class TagMergeSerializer(StrictInputSerializer):
    into = serializers.UUIDField(help_text="The tag that stays.")


class ContactAttributeWriteSerializer(StrictInputSerializer):
    key = serializers.SlugField(max_length=40)
    label = serializers.CharField(max_length=80)
    type = serializers.ChoiceField(choices=ContactAttribute.Type.choices, default="text")


class ContactAttributeUpdateSerializer(StrictInputSerializer):
    label = serializers.CharField(max_length=80)


class ActivitySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    conversation_id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    activity = serializers.DictField(
        help_text="kind (assigned, unassigned, resolved, reopened, status, priority, tags, "
        "snoozed, unsnoozed, handoff, survey_sent), by {id, name} or null, and the kind's facts."
    )


class UnreadCountsSerializer(serializers.Serializer):
    mine = serializers.IntegerField()
    unassigned = serializers.IntegerField()
    all = serializers.IntegerField()
    waiting = serializers.IntegerField()


class BulkResultSerializer(serializers.Serializer):
    conversations = serializers.ListField(child=serializers.DictField())


class ContactMergeCreateSerializer(StrictInputSerializer):
    other_id = serializers.UUIDField(
        help_text="The contact folded into this one: its channels, conversations, note and "
        "attributes move here and it is hidden until the merge is undone."
    )


class DuplicateQuerySerializer(StrictInputSerializer):
    contact = serializers.UUIDField(
        required=False, help_text="Only the suggestions that include this contact."
    )
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50)


class DuplicateDismissSerializer(StrictInputSerializer):
    contact_ids = serializers.ListField(
        child=serializers.UUIDField(),
        min_length=2,
        max_length=2,
        help_text="The two contacts that are not the same person.",
    )
