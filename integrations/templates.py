"""Message templates (WhatsApp's): synced from the business account, kept current by status
webhooks, offered to agents, filled in and sent through the outbound flow.

A template is how a business writes outside the 24-hour window: to reopen a conversation the
customer has let go quiet, or to write first (docs/channels.md §whatsapp.templates). The rows
keep the components as Meta describes them; filling one in replaces its ``{{1}}`` (positional)
or ``{{name}}`` (named) placeholders, for the thread's text and for the send's parameters.
"""

from __future__ import annotations

import logging
import re
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from conversations.types import RenderedTemplate
from flame.exceptions import ConflictError, InvalidInput
from integrations.models import Integration, MessageTemplate
from integrations.providers import PROVIDERS, base, provider_client

logger = logging.getLogger(__name__)

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
MEDIA_HEADERS = {"IMAGE": "image", "VIDEO": "video", "DOCUMENT": "document"}
MAX_PARAMETER_LENGTH = 1024


def _status(value: Any) -> str:
    status = str(value or "").lower()
    return status if status in MessageTemplate.Status.values else MessageTemplate.Status.PENDING


# --- reading a template's components -------------------------------------------------------------


def _component(template: MessageTemplate, kind: str) -> dict[str, Any]:
    for component in template.components:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == kind:
            return component
    return {}


def _placeholders(text: str) -> list[str]:
    """Each placeholder once, in the order it first appears."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def _part(template: MessageTemplate, kind: str) -> dict[str, Any] | None:
    component = _component(template, kind)
    if not component:
        return None
    text = str(component.get("text") or "")
    fmt = str(component.get("format") or "TEXT").upper()
    parameters = [fmt.lower()] if fmt in MEDIA_HEADERS else _placeholders(text)
    return {"format": fmt, "text": text, "parameters": parameters}


def template_parts(template: MessageTemplate) -> dict[str, Any]:
    body = _part(template, "BODY") or {"format": "TEXT", "text": "", "parameters": []}
    return {
        "header": _part(template, "HEADER"),
        "body": body,
        "footer": str(_component(template, "FOOTER").get("text") or ""),
    }


def template_choice(template: MessageTemplate) -> dict[str, Any]:
    return {
        "id": str(template.pk),
        "name": template.name,
        "language": template.language,
        "category": template.category,
        "status": template.status,
        **template_parts(template),
    }


def template_choices(*, integration: Integration) -> list[dict[str, Any]]:
    """``conversations.hooks.template_choices``: what an agent may send on this channel."""
    approved = MessageTemplate.objects.filter(
        integration=integration, status=MessageTemplate.Status.APPROVED
    )
    return [template_choice(template) for template in approved]


# --- filling one in ------------------------------------------------------------------------------


def _refuse(reason: str) -> InvalidInput:
    return InvalidInput("Invalid input.", details={"template": [reason]})


def _approved(integration: Integration, name: str, language: str) -> MessageTemplate:
    template = MessageTemplate.objects.filter(
        integration=integration, name=name, language=language
    ).first()
    if template is None:
        raise _refuse("This channel has no template with this name and language.")
    if template.status != MessageTemplate.Status.APPROVED:
        status = MessageTemplate.Status(template.status).label
        raise _refuse(f"This template is not approved ({status}): it cannot be sent.")
    return template


def _values(part: dict[str, Any] | None, given: list[str], where: str) -> list[str]:
    expected = len(part["parameters"]) if part else 0
    if len(given) != expected:
        raise _refuse(f"The {where} needs {expected} parameter(s); {len(given)} given.")
    if any(not value.strip() for value in given):
        raise _refuse(f"The {where}'s parameters cannot be blank.")
    return given


def _text_parameters(template: MessageTemplate, names: list[str], values: list[str]) -> list:
    named = template.parameter_format == "named"
    return [
        {"type": "text", "text": value, **({"parameter_name": name} if named else {})}
        for name, value in zip(names, values, strict=True)
    ]


def _header_component(template: MessageTemplate, part: dict | None, values: list[str]) -> list:
    if part is None or not values:
        return []
    media = MEDIA_HEADERS.get(part["format"])
    if media is None:
        parameters = _text_parameters(template, part["parameters"], values)
    else:
        if not values[0].startswith("https://"):
            raise _refuse(f"The header needs an https link to the {media}.")
        parameters = [{"type": media, media: {"link": values[0]}}]
    return [{"type": "header", "parameters": parameters}]


def _filled(text: str, names: list[str], values: list[str]) -> str:
    by_name = dict(zip(names, values, strict=True))
    return PLACEHOLDER.sub(lambda match: by_name.get(match.group(1), match.group(0)), text)


def template_render(
    *, integration: Integration, name: str, language: str, parameters: dict[str, list[str]]
) -> RenderedTemplate:
    """``conversations.hooks.message_template``: an approved template filled in, as the thread
    shows it and as WhatsApp's send wants it."""
    template = _approved(integration, name, language)
    parts = template_parts(template)
    header, body = parts["header"], parts["body"]
    header_values = _values(header, parameters.get("header") or [], "header")
    body_values = _values(body, parameters.get("body") or [], "body")
    components = _header_component(template, header, header_values)
    if body_values:
        components.append(
            {
                "type": "body",
                "parameters": _text_parameters(template, body["parameters"], body_values),
            }
        )
    texts = [_filled(body["text"], body["parameters"], body_values), parts["footer"]]
    if header and header["format"] == "TEXT":
        texts.insert(0, _filled(header["text"], header["parameters"], header_values))
    metadata = {
        "template": {
            "id": str(template.pk),
            "name": template.name,
            "language": template.language,
            "components": components,
        }
    }
    return RenderedTemplate(content="\n\n".join(t for t in texts if t), metadata=metadata)


# --- keeping them current ------------------------------------------------------------------------


def _row_values(item: dict[str, Any]) -> dict[str, Any]:
    components = item.get("components")
    return {
        "external_id": str(item.get("id") or "")[:64],
        "category": str(item.get("category") or "").lower()[:32],
        "status": _status(item.get("status")),
        "status_reason": _reason(item.get("rejected_reason")),
        "parameter_format": str(item.get("parameter_format") or "positional").lower()[:12],
        "components": components if isinstance(components, list) else [],
        "synced_at": timezone.now(),
    }


def _reason(value: Any) -> str:
    reason = str(value or "")
    return "" if reason.upper() == "NONE" else reason[:200]


def _store(integration: Integration, items: list[dict[str, Any]]) -> int:
    kept = []
    for item in items:
        name, language = str(item.get("name") or ""), str(item.get("language") or "")
        if not name or not language:
            continue
        template, _created = MessageTemplate.objects.update_or_create(
            integration=integration,
            name=name[:512],
            language=language[:16],
            defaults={"workspace_id": integration.workspace_id, **_row_values(item)},
        )
        kept.append(template.pk)
    # Deleted at Meta: gone here too (sent messages keep the name in their metadata).
    MessageTemplate.objects.filter(integration=integration).exclude(pk__in=kept).delete()
    return len(kept)


def templates_sync(*, integration: Integration) -> int:
    """Fetch every template of the channel's business account and store them as they are
    (the platform call outside any transaction). Returns how many the account has."""
    client = provider_client(integration.platform)
    if not isinstance(client, base.SyncsTemplates):
        raise ConflictError("This channel has no message templates.", code="templates_unsupported")
    try:
        items = client.fetch_templates(integration=integration)
    except base.SendError as error:
        raise ConflictError(
            "The platform refused to list the templates.",
            code="templates_sync_failed",
            details={"provider_message": error.reason},
        ) from error
    with transaction.atomic():
        return _store(integration, items)


def templates_sync_by_id(*, integration_id: str) -> int:
    integration = Integration.objects.filter(pk=integration_id).first()
    if integration is None or integration.status != Integration.Status.ACTIVE:
        return 0
    try:
        return templates_sync(integration=integration)
    except ConflictError as error:
        logger.warning(
            "Template sync failed", extra={"integration_id": integration_id, "code": error.code}
        )
        return 0


def templates_sync_schedule() -> int:
    """Queue a sync of every connected channel that keeps templates (the periodic task)."""
    from integrations.tasks import sync_message_templates_task

    platforms = [p for p in PROVIDERS if isinstance(provider_client(p), base.SyncsTemplates)]
    channels = Integration.objects.filter(
        status=Integration.Status.ACTIVE, platform__in=platforms
    ).values_list("pk", flat=True)
    for integration_id in channels:
        sync_message_templates_task.delay(str(integration_id))
    return len(channels)


def _same_account(integration: Integration) -> list[Integration]:
    """The workspace's channels on the integration's business account: templates belong to
    the account, so every number on it sees the same review."""
    account = integration.credentials.get("business_account_id")
    siblings = Integration.objects.filter(
        workspace_id=integration.workspace_id, platform=integration.platform
    )
    return [i for i in siblings if i.credentials.get("business_account_id") == account]


def template_status_apply(*, integration: Integration, update: base.TemplateStatusUpdate) -> int:
    """A status webhook: the template's review outcome, on every channel of the account. A
    template we have not synced yet is fetched (after commit) with the rest."""
    channels = _same_account(integration)
    changed = MessageTemplate.objects.filter(
        integration__in=channels, name=update.name, language=update.language
    ).update(status=_status(update.status), status_reason=update.reason[:200])
    if not changed:
        from integrations.tasks import sync_message_templates_task

        for channel in channels:
            sync = partial(sync_message_templates_task.delay, str(channel.pk))
            transaction.on_commit(sync, robust=True)
    return changed
