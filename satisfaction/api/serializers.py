from __future__ import annotations

from rest_framework import serializers

from satisfaction.serializers import RatingSerializer

__all__ = ["RatingCreateSerializer", "RatingSerializer"]


class RatingCreateSerializer(serializers.Serializer):
    score = serializers.IntegerField(help_text="1 (bad) to 5 (excellent).")
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=True
    )
