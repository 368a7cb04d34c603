from __future__ import annotations

from rest_framework import serializers

from accounts.models import User, Workspace


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
