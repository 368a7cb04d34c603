from __future__ import annotations

from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm

from accounts.models import User


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
