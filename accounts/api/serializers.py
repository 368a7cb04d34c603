from __future__ import annotations

from datetime import timedelta

from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from rest_framework import serializers

from accounts.audit import ACTIONS
from accounts.models import ApiKey, AuditEntry, DateOverride, HolidayFeed, User, Workspace
from flame.api.dates import FIRST_DAY, LAST_DAY, DayRangeQuerySerializer


class WorkspaceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Workspace
        fields = ("id", "name", "timezone", "language", "plan", "created_at")
        read_only_fields = fields


class UserSerializer(serializers.ModelSerializer):
    workspace = WorkspaceSerializer(read_only=True)

    class Meta:
        model = User
        fields = (
            "id",
            "email",
            "name",
            "avatar_url",
            "role",
            "language",
            "is_active",
            "workspace",
            "last_login",
            "created_at",
        )
        read_only_fields = fields


class MemberSerializer(serializers.ModelSerializer):
    """A colleague as workspace admins see them under /api/users."""

    class Meta:
        model = User
        fields = (
            "id",
            "email",
            "name",
            "avatar_url",
            "role",
            "language",
            "is_active",
            "is_pending",
            "last_login",
            "created_at",
        )
        read_only_fields = fields


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    name = serializers.CharField(max_length=150)
    workspace_name = serializers.CharField(max_length=200)
    language = serializers.ChoiceField(choices=Workspace.Language.choices, required=False)


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=2048)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class LoginResponseSerializer(TokenPairSerializer):
    user = UserSerializer()


class ProfileSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False)
    avatar_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    language = serializers.ChoiceField(
        choices=Workspace.Language.choices, required=False, allow_blank=True
    )


class ChangePasswordSerializer(serializers.Serializer):
    current_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class ForgotPasswordSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class ResetPasswordSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=512)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


SET_OWN_PASSWORD = (
    "Members choose their own password from the invitation e-mail; leave password out."
)


class MemberCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=User.Role.choices, default=User.Role.AGENT)

    def validate(self, attrs):
        # Named, not silently dropped: an admin-chosen password would let a workspace hold an
        # address it does not control, and would tell it whether the address is used elsewhere.
        if self.initial_data.get("password"):
            raise serializers.ValidationError({"password": [SET_OWN_PASSWORD]})
        return attrs


class SignupConfirmSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=512)


class MemberUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False)
    role = serializers.ChoiceField(choices=User.Role.choices, required=False)
    is_active = serializers.BooleanField(required=False)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class AvailabilitySerializer(serializers.Serializer):
    availability = serializers.ChoiceField(choices=User.Availability.choices)


class AvailabilityAnswerSerializer(serializers.Serializer):
    availability = serializers.ChoiceField(
        choices=User.Availability.choices, help_text="What the member chose."
    )
    effective = serializers.ChoiceField(
        choices=User.Availability.choices,
        help_text="What colleagues see: offline once the member has been away a few minutes.",
    )


class ApiKeySerializer(serializers.ModelSerializer):
    """A key as admins see it: never its secret nor its digest."""

    created_by = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = (
            "id",
            "name",
            "scopes",
            "prefix",
            "state",
            "created_by",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
        )
        read_only_fields = fields

    def get_created_by(self, key: ApiKey) -> dict:
        return {"id": str(key.created_by_id), "name": key.created_by.name}

    def get_state(self, key: ApiKey) -> str:
        return key.state(timezone.now())


class ApiKeyCreatedSerializer(ApiKeySerializer):
    """The answer to creating a key: the only time its secret is shown."""

    secret = serializers.CharField(read_only=True)

    class Meta(ApiKeySerializer.Meta):
        fields = (*ApiKeySerializer.Meta.fields, "secret")
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=ApiKey.Scope.choices), allow_empty=False
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    target = serializers.SerializerMethodField()

    class Meta:
        model = AuditEntry
        fields = ("id", "action", "actor", "target", "data", "ip", "created_at")
        read_only_fields = fields

    def get_actor(self, entry: AuditEntry) -> dict:
        key = entry.actor_api_key
        return {
            "type": entry.actor_type,
            "label": entry.actor_label,
            "user": (
                {"id": str(entry.actor_user_id), "name": entry.actor_user.name}
                if entry.actor_user is not None
                else None
            ),
            "api_key": (
                {"id": str(key.pk), "name": key.name, "prefix": key.prefix}
                if key is not None
                else None
            ),
        }

    def get_target(self, entry: AuditEntry) -> dict | None:
        if not entry.target_type:
            return None
        return {"type": entry.target_type, "id": entry.target_id}


class AuditFilterSerializer(serializers.Serializer):
    """The audit log's filters; a parameter it does not know is refused (400), so a client never
    believes a filter applied when it did not."""

    also_accepted = ("cursor", "limit")

    action = serializers.CharField(
        required=False, help_text="One action or several, comma-separated."
    )
    actor = serializers.UUIDField(
        required=False, source="actor_id", help_text="A member's or an API key's id."
    )
    actor_type = serializers.ChoiceField(choices=AuditEntry.ActorType.choices, required=False)
    target_type = serializers.CharField(required=False, max_length=32)
    target_id = serializers.CharField(required=False, max_length=64)

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword, so these two are named here rather than declared.
        fields["from"] = serializers.DateTimeField(
            required=False, source="since", help_text="Entries at or after this moment (ISO 8601)."
        )
        fields["to"] = serializers.DateTimeField(
            required=False, source="until", help_text="Entries before this moment (ISO 8601)."
        )
        return fields

    def to_internal_value(self, data):
        known = {*self.fields, *self.also_accepted}
        unknown = sorted(str(name) for name in data if name not in known)
        if unknown:
            raise serializers.ValidationError(
                {name: ["Unknown field: not accepted here."] for name in unknown}
            )
        values = super().to_internal_value(data)
        if "action" in values:
            values["actions"] = self._actions(values.pop("action"))
        return values

    def _actions(self, raw: str) -> list[str]:
        actions = [part.strip() for part in raw.split(",") if part.strip()]
        unknown = [action for action in actions if action not in ACTIONS]
        if unknown:
            raise serializers.ValidationError({"action": [f"Unknown action: {unknown[0]}."]})
        return actions

    def validate(self, attrs):
        since, until = attrs.get("since"), attrs.get("until")
        if since is not None and until is not None and since > until:
            raise serializers.ValidationError({"to": ["Must not be before from."]})
        return attrs


# --- the business calendar ------------------------------------------------------------------------

TIME_FORMAT = "%H:%M"
_DAY_RANGE = f"Must be between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}."


class HolidayWindowSerializer(DayRangeQuerySerializer):
    """``?from=&to=`` of /api/holidays: by default from today (the workspace's) for a year."""

    max_days = 800
    ahead = timedelta(days=365)

    def day_range(self, attrs):
        first = attrs.get("from") or timezone.localdate(timezone=self.context["zone"])
        last = attrs.get("to") or first + self.ahead
        if first > last:
            raise serializers.ValidationError({"from": ["Must not be after 'to'."]})
        if (last - first).days >= self.max_days:
            raise serializers.ValidationError({"from": [f"At most {self.max_days} days."]})
        return first, last


class DateOverrideSerializer(serializers.ModelSerializer):
    opens = serializers.TimeField(format=TIME_FORMAT, allow_null=True)
    closes = serializers.TimeField(format=TIME_FORMAT, allow_null=True)
    feed_id = serializers.UUIDField(allow_null=True)
    feed_name = serializers.CharField(source="feed.name", default=None, allow_null=True)

    class Meta:
        model = DateOverride
        fields = (
            "id",
            "date",
            "closed",
            "opens",
            "closes",
            "name",
            "source",
            "feed_id",
            "feed_name",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class DateOverrideWriteSerializer(serializers.Serializer):
    """A date closed all day (``closed: true``, no hours) or open only from ``opens`` to
    ``closes`` (``closed: false``), in the workspace's timezone."""

    date = serializers.DateField(
        source="day",
        help_text="The local date (YYYY-MM-DD) in the workspace timezone.",
        validators=[
            MinValueValidator(FIRST_DAY, message=_DAY_RANGE),
            MaxValueValidator(LAST_DAY, message=_DAY_RANGE),
        ],
    )
    closed = serializers.BooleanField(default=True)
    opens = serializers.TimeField(
        required=False, allow_null=True, help_text="HH:MM; only when closed is false."
    )
    closes = serializers.TimeField(
        required=False,
        allow_null=True,
        help_text="HH:MM, after opens (the hours end by midnight); only when closed is false.",
    )
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)


class HolidayFeedSerializer(serializers.ModelSerializer):
    dates_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = HolidayFeed
        fields = (
            "id",
            "name",
            "url",
            "enabled",
            "last_fetched_at",
            "last_succeeded_at",
            "last_error",
            "dates_count",
            "created_at",
        )
        read_only_fields = fields


class HolidayFeedWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    # Not a URLField: webcal:// addresses are accepted too; the service checks the address.
    url = serializers.CharField(max_length=500, help_text="An http(s) or webcal address of an .ics")
    enabled = serializers.BooleanField(default=True)


class HolidayFeedRefreshSerializer(serializers.Serializer):
    feed = HolidayFeedSerializer()
    added = serializers.ListField(child=serializers.DateField())
    removed = serializers.ListField(child=serializers.DateField())
    error = serializers.CharField()
