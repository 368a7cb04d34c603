"""Demo data for integrations: the sandbox channel of the demo workspace."""

from __future__ import annotations

from integrations.models import Integration, Platform


def sandbox_for(workspace) -> Integration:
    integration, _ = Integration.objects.get_or_create(
        workspace=workspace,
        platform=Platform.SANDBOX,
        name="Sandbox",
        defaults={
            "status": Integration.Status.ACTIVE,
            "external_account_id": f"sandbox-{workspace.pk}",
        },
    )
    return integration


def seed_into(context) -> None:
    sandbox_for(context.workspace)
