from __future__ import annotations

from rest_framework import serializers


class RatingCreateSerializer(serializers.Serializer):
    score = serializers.IntegerField(help_text="1 (bad) to 5 (excellent).")
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=True
    )


class RatingSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    conversation_id = serializers.UUIDField()
    survey_id = serializers.UUIDField(allow_null=True)
    score = serializers.IntegerField()
    comment = serializers.CharField()
    source = serializers.CharField()
    agent_id = serializers.UUIDField(allow_null=True)
    assistant_id = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()
