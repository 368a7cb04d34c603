"""Demo data for integrations: the sandbox channel of the demo workspace."""

from __future__ import annotations

from integrations.models import Integration, Platform


def sandbox_for(workspace) -> Integration:
    """The demo's sandbox channel, found by its account id (unique per platform and never
    edited from the product) rather than by its name, which an admin may change."""
    integration, _ = Integration.objects.get_or_create(
        platform=Platform.SANDBOX,
        external_account_id=f"sandbox-{workspace.pk}",
        defaults={"workspace": workspace, "name": "Sandbox", "status": Integration.Status.ACTIVE},
    )
    return integration


def seed_into(context) -> None:
    sandbox_for(context.workspace)
