"""Date windows in query strings: ``?from=YYYY-MM-DD&to=YYYY-MM-DD``, whole local days.

Every report turns its days into datetimes and shifts them (the day after ``to``, the period
before ``from``, the Monday of a week); at ``date.min`` or ``date.max`` that arithmetic
overflows. Days are therefore bounded to a range no report can leave, far wider than any data.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from rest_framework import serializers

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
_OUT_OF_RANGE = f"Must be between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}."


def _day_field(help_text: str) -> serializers.DateField:
    return serializers.DateField(
        required=False,
        help_text=help_text,
        validators=[
            MinValueValidator(FIRST_DAY, message=_OUT_OF_RANGE),
            MaxValueValidator(LAST_DAY, message=_OUT_OF_RANGE),
        ],
    )


class DayRangeQuerySerializer(serializers.Serializer):
    """``from`` and ``to`` (inclusive local days) with their defaults and limits.

    Subclasses set ``default_days`` (the period when ``from`` is missing; the context's
    ``default_days`` wins) and ``max_days``, and turn ``day_range()`` into what they return.
    The context's ``zone`` is the workspace timezone, in which "today" is the default ``to``.
    """

    default_days = 7
    max_days = 366

    # "from" is a Python keyword: the field is declared under another name and renamed below.
    from_ = _day_field("First local day (YYYY-MM-DD).")
    to = _day_field("Last local day, inclusive.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields

    def day_range(self, attrs) -> tuple[date, date]:
        last = attrs.get("to") or timezone.localdate(timezone=self.context["zone"])
        default_days = self.context.get("default_days", self.default_days)
        first = attrs.get("from") or last - timedelta(days=default_days - 1)
        if first > last:
            raise serializers.ValidationError({"from": ["Must not be after 'to'."]})
        if (last - first).days >= self.max_days:
            raise serializers.ValidationError({"from": [f"At most {self.max_days} days."]})
        return first, last
