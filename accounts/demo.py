"""Demo data for accounts: the demo workspace, its admin and one agent.

Only ``manage.py seed_demo`` calls this; nothing else ever creates the well-known demo admin.

Seeding again finds what it made by keys an admin cannot change from the product, never by
name (the workspace, its assistants and channels can all be renamed): the workspace by the
``demo`` marker in its settings, users by their e-mail address, and the other apps' rows by
:func:`stable_id`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from accounts.models import User, Workspace

DEMO_WORKSPACE_NAME = "FLAME Demo"
DEMO_ADMIN_EMAIL = "admin@flame-assistant.com"
DEMO_ADMIN_PASSWORD = "admin123"
DEMO_AGENT_EMAIL = "agent@flame-assistant.com"
DEMO_AGENT_PASSWORD = "agent123"


@dataclass(frozen=True)
class DemoContext:
    workspace: Workspace
    admin: User
    agent: User


def stable_id(workspace: Workspace, key: str) -> uuid.UUID:
    """The primary key of the demo row ``key`` ("assistant:sales") of ``workspace``: the same
    on every run, so a row is found again after an admin renamed it."""
    return uuid.uuid5(workspace.pk, key)


def _member(
    workspace: Workspace, *, email: str, password: str, name: str, role: str, **extra
) -> User:
    try:
        return User.objects.get_by_natural_key(email)
    except User.DoesNotExist:
        # The demo passwords are deliberately weak and well known, so they skip the validators
        # that every real sign-up goes through.
        return User.objects.create_user(
            email=email, password=password, name=name, role=role, workspace=workspace, **extra
        )


def _workspace() -> Workspace:
    # The Workspace page merges the switches it edits into settings and refuses unknown keys,
    # so the marker survives every edit an admin can make.
    marked = Workspace.objects.filter(settings__demo=True).order_by("created_at").first()
    return marked or Workspace.objects.create(
        name=DEMO_WORKSPACE_NAME,
        language="es",
        timezone="America/Mexico_City",
        plan="pro",
        # The demo asks for a satisfaction rating when a conversation is resolved.
        settings={"demo": True, "csat_survey": True},
    )


def seed() -> DemoContext:
    workspace = _workspace()
    admin = _member(
        workspace,
        email=DEMO_ADMIN_EMAIL,
        password=DEMO_ADMIN_PASSWORD,
        name="Demo Admin",
        role=User.Role.ADMIN,
        # The demo instance's admin also operates it through Django admin.
        is_staff=True,
        is_superuser=True,
    )
    agent = _member(
        workspace,
        email=DEMO_AGENT_EMAIL,
        password=DEMO_AGENT_PASSWORD,
        name="Lucía Agent",
        role=User.Role.AGENT,
    )
    return DemoContext(workspace=workspace, admin=admin, agent=agent)
