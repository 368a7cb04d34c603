"""Demo data for accounts: the demo workspace, its admin and one agent.

Only ``manage.py seed_demo`` calls this; nothing else ever creates the well-known demo admin.
"""

from __future__ import annotations

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


def _member(
    workspace: Workspace, *, email: str, password: str, name: str, role: str, **extra
) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        # The demo passwords are deliberately weak and well known, so they skip the validators
        # that every real sign-up goes through.
        user = User.objects.create_user(
            email=email, password=password, name=name, role=role, workspace=workspace, **extra
        )
    return user


def seed() -> DemoContext:
    workspace, _ = Workspace.objects.get_or_create(
        name=DEMO_WORKSPACE_NAME,
        settings__demo=True,
        defaults={
            "language": "es",
            "timezone": "America/Mexico_City",
            "plan": "pro",
            # The demo asks for a satisfaction rating when a conversation is resolved.
            "settings": {"demo": True, "csat_survey": True},
        },
    )
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
