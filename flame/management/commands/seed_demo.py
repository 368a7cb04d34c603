"""``manage.py seed_demo``: idempotent demo data for trying the product.

Each app that has demo data exposes ``<app>/demo.py`` with ``seed_into(context)``; accounts
creates the workspace and users first, then every other app adds its rows, lowest layer first
(each may rely on what the layers below it seeded). Running it twice changes nothing the
second time. It lives in ``flame``, above every app, because it is the one place that knows
them all.

The demo accounts are printed last, after everything else the seed printed (the inline tasks'
log lines come first), so they are what a reader finds at the end of the output.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import demo
from analytics import demo as analytics_demo
from assistants import demo as assistants_demo
from integrations import demo as integrations_demo

# Lowest layer first: the sandbox channel needs the sales assistant, the analytics history both.
DEMO_SEEDERS = (assistants_demo.seed_into, integrations_demo.seed_into, analytics_demo.seed_into)


def _seed_apps(context: demo.DemoContext) -> None:
    for seed_into in DEMO_SEEDERS:
        seed_into(context)


class Command(BaseCommand):
    help = "Create (or complete) the demo workspace with its admin, an agent and sample data."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            context = demo.seed()
            _seed_apps(context)
        # Tasks ran inline as the transaction committed and logged to stderr: out before the
        # accounts, even when both streams go to one pipe.
        sys.stderr.flush()
        self._print_accounts(context)

    def _print_accounts(self, context: demo.DemoContext) -> None:
        self.stdout.write(self.style.SUCCESS(f"Demo workspace ready: {context.workspace.name}"))
        self.stdout.write(f"  admin: {demo.DEMO_ADMIN_EMAIL} / {demo.DEMO_ADMIN_PASSWORD}")
        self.stdout.write(f"  agent: {demo.DEMO_AGENT_EMAIL} / {demo.DEMO_AGENT_PASSWORD}")
        self.stdout.write(
            self.style.WARNING(
                "WARNING: these demo passwords are public. Change them (or delete the demo "
                "workspace) before exposing this instance."
            )
        )
