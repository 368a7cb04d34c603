"""How a rating is shown: by the API and in the ``rating.created`` webhook alike."""

from __future__ import annotations

from rest_framework import serializers


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
