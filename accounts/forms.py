from __future__ import annotations

from django.contrib.auth.forms import AdminPasswordChangeForm, BaseUserCreationForm, UserChangeForm
from django.db import transaction

from accounts.models import User
from accounts.services import user_revoke_tokens


class UserCreationAdminForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name", "workspace", "role")

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class OperatorPasswordChangeForm(AdminPasswordChangeForm):
    """An operator sets someone's password: as with every other password change, the tokens
    issued before it stop working."""

    def save(self, commit: bool = True) -> User:
        with transaction.atomic():
            user = super().save(commit=commit)
            if commit:
                user_revoke_tokens(user=user)
        return user
