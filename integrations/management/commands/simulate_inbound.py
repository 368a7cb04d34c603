"""``manage.py simulate_inbound``: a customer message through the sandbox channel, as if it had
arrived by webhook (stored as a WebhookEvent, processed by the ingest task)."""

from __future__ import annotations

import uuid

from django.core.management.base import BaseCommand, CommandError

from integrations import ingest
from integrations.models import Integration, Platform


class Command(BaseCommand):
    help = "Send a simulated customer message to a sandbox integration."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--integration", help="Sandbox integration id (default: the only/first one)"
        )
        parser.add_argument(
            "--from", dest="sender", default="+5215500000000", help="Customer id/phone"
        )
        parser.add_argument("--name", default="Cliente Sandbox", help="Customer name")
        parser.add_argument("text", help="Message text")

    def _integration(self, integration_id: str | None) -> Integration:
        sandboxes = Integration.objects.filter(platform=Platform.SANDBOX)
        if integration_id:
            sandboxes = sandboxes.filter(pk=integration_id)
        integration = sandboxes.order_by("created_at").first()
        if integration is None:
            raise CommandError("No sandbox integration found (run manage.py seed_demo).")
        return integration

    def handle(self, *args, **options) -> None:
        integration = self._integration(options["integration"])
        event = ingest.sandbox_message_store(
            integration=integration,
            sender=options["sender"],
            name=options["name"],
            text=options["text"],
            message_id=uuid.uuid4().hex,
        )
        self.stdout.write(self.style.SUCCESS(f"Stored webhook event {event.pk} for {integration}"))
