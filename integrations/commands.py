"""The bot's command menu (the list Telegram shows behind "/"): one workspace setting,
registered on every bot of the workspace with ``setMyCommands`` when it changes and when a bot
is connected (docs/channels.md §telegram.commands)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction

from accounts.models import User, Workspace
from integrations.models import Integration
from integrations.providers import base, has_command_menu, provider_client

logger = logging.getLogger(__name__)

SETTING = "bot_commands"


@dataclass(frozen=True)
class Registration:
    integration: Integration
    error: str = ""


def bot_commands_for(workspace: Workspace) -> list[dict[str, str]]:
    commands = workspace.setting(SETTING, [])
    return commands if isinstance(commands, list) else []


def bot_commands_register(*, integration: Integration) -> Registration:
    """Register the workspace's commands on one bot (a platform call: outside transactions)."""
    client = provider_client(integration.platform)
    if not isinstance(client, base.RegistersCommands):
        return Registration(integration)
    if SETTING not in (integration.workspace.settings or {}):
        return Registration(integration)  # never set: the bot keeps whatever menu it has
    commands = bot_commands_for(integration.workspace)
    try:
        client.register_commands(integration=integration, commands=commands)
    except base.SendError as error:
        logger.warning(
            "Could not register bot commands", extra={"integration_id": str(integration.pk)}
        )
        return Registration(integration, error=error.reason)
    return Registration(integration)


def _bots(workspace: Workspace) -> list[Integration]:
    integrations = Integration.objects.filter(
        workspace=workspace, status=Integration.Status.ACTIVE
    ).select_related("workspace")
    return [integration for integration in integrations if has_command_menu(integration.platform)]


def bot_commands_update(*, by: User, commands: list[dict[str, str]]) -> list[Registration]:
    """Save the command list (``[{command, description}]``) and register it on every
    connected bot; each bot's outcome is returned (a bot that refused keeps its old menu)."""
    with transaction.atomic():
        workspace = Workspace.objects.select_for_update().get(pk=by.member_workspace_id)
        workspace.settings = {**(workspace.settings or {}), SETTING: commands}
        workspace.save(update_fields=["settings", "updated_at"])
    return [bot_commands_register(integration=bot) for bot in _bots(workspace)]
