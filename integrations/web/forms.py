"""The channel form of the settings pages: name, default assistant and the platform's credentials.

Credential fields come from the provider specs (``integrations/providers/__init__.py``), so a
new channel gets its form by registering its spec (and, ideally, labels below). They are
write-only: a stored value is never rendered back; on edit a blank field keeps what is stored.
The API's input serializers check the shape, the services the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from assistants.selectors import assistant_scope_for
from flame.forms import apply_serializer
from integrations.api import serializers as api_serializers
from integrations.commands import bot_commands_for
from integrations.models import Integration
from integrations.providers import provider_spec


@dataclass(frozen=True)
class CredentialInfo:
    label: Promise
    help: Promise | str = ""
    secret: bool = True


CREDENTIALS: dict[str, CredentialInfo] = {
    "access_token": CredentialInfo(
        _("Access token"),
        _("A permanent token of a system user with the messaging permissions of this account."),
    ),
    "phone_number_id": CredentialInfo(
        _("Phone number ID"),
        _("WhatsApp Manager → API setup: the ID of the number, not the number itself."),
        secret=False,
    ),
    "business_account_id": CredentialInfo(
        _("WhatsApp Business Account ID"),
        _("WhatsApp Manager → Account tools: needed to send message templates."),
        secret=False,
    ),
    "app_secret": CredentialInfo(
        _("App secret"), _("Meta app → Settings → Basic. It verifies that webhooks come from Meta.")
    ),
    "verify_token": CredentialInfo(
        _("Verify token"),
        _("Any phrase you also paste into Meta's webhook settings. Blank: we generate one."),
    ),
    "page_id": CredentialInfo(_("Page ID"), secret=False),
    "page_access_token": CredentialInfo(
        _("Page access token"), _("A long-lived Page token with pages_messaging.")
    ),
    "instagram_account_id": CredentialInfo(
        _("Instagram account ID"), _("The professional account's ID."), secret=False
    ),
    "instagram_app_secret": CredentialInfo(
        _("Instagram app secret"), _("Only for apps that use Instagram Login.")
    ),
    "bot_token": CredentialInfo(_("Bot token"), _("The token @BotFather gave you.")),
    "secret_token": CredentialInfo(
        _("Webhook secret token"), _("Telegram sends it with every update. Blank: we generate one.")
    ),
}


GENERATED_WHEN_BLANK = ("verify_token", "secret_token")


def credential_info(name: str) -> CredentialInfo:
    return CREDENTIALS.get(name) or CredentialInfo(label=name.replace("_", " ").capitalize())


class IntegrationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("Shown to your team."))
    default_assistant = forms.ModelChoiceField(
        label=_("Default assistant"),
        queryset=None,
        required=False,
        empty_label=_("None: only people answer"),
        help_text=_("Answers new conversations of this channel automatically."),
    )

    def __init__(
        self,
        *args,
        user: User,
        platform: str,
        integration: Integration | None = None,
        **kwargs,
    ) -> None:
        if integration is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": integration.name,
                "default_assistant": integration.default_assistant_id,
            }
        super().__init__(*args, **kwargs)
        self.platform = platform
        self.integration = integration
        # Scoped: another workspace's assistant is not a valid choice.
        self.fields["default_assistant"].queryset = assistant_scope_for(user=user)
        self.credential_names = self._add_credential_fields()

    def _add_credential_fields(self) -> list[str]:
        spec = provider_spec(self.platform)
        stored = self.integration.credentials if self.integration is not None else {}
        names = [*spec.required_credentials, *spec.optional_credentials]
        for name in names:
            self.fields[name] = self._credential_field(
                name,
                required=name in spec.required_credentials and self.integration is None,
                is_stored=bool(stored.get(name)),
            )
        return names

    def _credential_field(self, name: str, *, required: bool, is_stored: bool) -> forms.Field:
        info = credential_info(name)
        attrs = {"autocomplete": "off", "spellcheck": "false"}
        if is_stored:
            attrs["placeholder"] = _("Saved. Leave blank to keep it.")
        widget = (
            forms.PasswordInput(attrs=attrs, render_value=False)
            if info.secret
            else forms.TextInput(attrs=attrs)
        )
        help_text = info.help
        if self.integration is not None and name in GENERATED_WHEN_BLANK:
            help_text = _("Leave blank to keep the current one.")
        field = forms.CharField(
            label=info.label,
            help_text=help_text,
            required=required,
            max_length=4096,
            strip=True,
            widget=widget,
        )
        field.is_stored = is_stored
        field.conditional = self.integration is not None  # blank keeps: no "optional" mark
        return field

    @property
    def credential_fields(self):
        return [self[name] for name in self.credential_names]

    def credentials(self) -> dict[str, str]:
        """The credentials typed in (blank ones left out: on edit, blank keeps the stored)."""
        return {
            name: self.cleaned_data[name]
            for name in self.credential_names
            if self.cleaned_data.get(name)
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        assistant = cleaned.get("default_assistant")
        body = {
            "name": cleaned["name"],
            "credentials": self.credentials(),
            "default_assistant_id": assistant.pk if assistant else None,
        }
        if self.integration is None:
            serializer = api_serializers.IntegrationCreateSerializer(
                data={**body, "platform": self.platform}
            )
        else:
            serializer = api_serializers.IntegrationUpdateSerializer(data=body)
        apply_serializer(self, serializer)
        return cleaned


class BotCommandsForm(forms.Form):
    """The bot's command menu, one "command - description" a line (checked by the API's
    serializer, Telegram's rules)."""

    commands = forms.CharField(
        label=_("Commands"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
        help_text=_(
            "One per line: the command, a dash and what it does, e.g. “order - Where is my "
            "order?”. Telegram shows them when the customer types /."
        ),
    )

    def entries(self) -> list[dict[str, str]]:
        lines = (line.strip() for line in self.cleaned_data["commands"].splitlines())
        entries = []
        for line in filter(None, lines):
            command, _dash, description = line.partition(" - ")
            entries.append({"command": command.strip(), "description": description.strip()})
        return entries

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        serializer = api_serializers.BotCommandsSerializer(data={"commands": self.entries()})
        if serializer.is_valid():
            self.validated = dict(serializer.validated_data)
        else:
            self.add_error(
                "commands",
                _("Each line needs a command (a-z, 0-9, _) and, after “ - ”, what it does."),
            )
        return cleaned


def commands_text(workspace) -> str:
    """The workspace's command menu as the form shows it, one "command - description" a line."""
    return "\n".join(
        f"{entry.get('command', '')} - {entry.get('description', '')}"
        for entry in bot_commands_for(workspace)
    )
