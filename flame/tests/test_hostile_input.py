"""Every JSON write endpoint and every query parameter of the API, from the OpenAPI schema,
against hostile values: NUL, a lone surrogate, 10,000 characters, dates at the edges of the
calendar, a Unicode digit.

No answer may be a 500. Text the database cannot store (NUL, lone surrogates) must be refused
with a 4xx in the error shape; any refusal must leave every table's row count and the rows the
URL names exactly as they were. CI runs this on PostgreSQL, which refuses what SQLite stores.
"""

from __future__ import annotations

from datetime import date

import pytest

from accounts import audit
from accounts.models import AuditEntry, DateOverride, HolidayFeed
from accounts.services import api_key_create
from accounts.tests.factories import UserFactory
from assistants.tests.factories import (
    AssistantFactory,
    KnowledgeDocumentFactory,
    ScheduleFactory,
)
from billing.models import Notice
from conversations.models import Attachment, ContactAttribute
from conversations.services import contact_merge
from conversations.tests.factories import (
    ContactFactory,
    ConversationFactory,
    MessageFactory,
    TagFactory,
)
from flame.tests import hostile
from integrations.tests.factories import IntegrationFactory
from outgoing_webhooks.models import WebhookDelivery, WebhookEndpoint
from workbench.models import SavedReply

pytestmark = pytest.mark.django_db


@pytest.fixture
def targets(workspace, admin_user):
    """One object per kind of path parameter, all in the admin's workspace."""
    assistant = AssistantFactory(workspace=workspace)
    conversation = ConversationFactory(workspace=workspace)
    sandbox = IntegrationFactory(workspace=workspace, platform="sandbox")
    message = MessageFactory(conversation=conversation)
    colleague = UserFactory(workspace=workspace, role="agent")
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace,
        url="http://8.8.8.8/hook",
        events=["message.created"],
        signing={"secret": "whsec_test"},
    )
    objects = {
        "assistants.id": assistant,
        "document_id": KnowledgeDocumentFactory(assistant=assistant),
        "schedule_id": ScheduleFactory(assistant=assistant),
        "contacts.id": ContactFactory(workspace=workspace),
        "conversations.id": conversation,
        "message_id": message,
        "attachment_id": Attachment.objects.create(
            message=message, workspace=workspace, kind="image", source_id="77"
        ),
        "tags.id": TagFactory(workspace=workspace),
        # Another member, so no request edits the caller's own account.
        "users.id": colleague,
        "agents.id": colleague,
        "channels.id": sandbox,
        "contact-attributes.id": ContactAttribute.objects.create(
            workspace=workspace, key="plan", label="Plan"
        ),
        "contact-merges.id": contact_merge(
            by=admin_user,
            primary=ContactFactory(workspace=workspace),
            secondary=ContactFactory(workspace=workspace),
        ),
        "saved-replies.id": SavedReply.objects.create(
            workspace=workspace, short_code="hi", content="Hello {{contact.name}}"
        ),
        "integrations.id": sandbox,
        "integration_id": sandbox,
        "notice_id": Notice.objects.create(workspace=workspace, kind="announcement", title="N"),
        "api-keys.id": api_key_create(by=admin_user, name="CRM", scopes=["read"])[0],
        "outgoing-webhooks.id": endpoint,
        "holidays.id": DateOverride.objects.create(workspace=workspace, date=date(2031, 1, 1)),
        # A loopback address: a refresh is refused by the SSRF check, never sent anywhere.
        "holiday-feeds.id": HolidayFeed.objects.create(
            workspace=workspace, name="Holidays", url="http://127.0.0.1:9/holidays.ics"
        ),
        "delivery_id": WebhookDelivery.objects.create(
            endpoint=endpoint,
            workspace=workspace,
            event_type="message.created",
            source_event_id=1,
            body="{}",
        ),
    }
    return objects


@pytest.fixture
def client(admin_client, settings):
    # Hundreds of requests from one user and failed sign-ins must not turn into 429s.
    settings.RATELIMIT_ENABLE = False
    return admin_client


# Path parameters that name no row: the payment provider.
PATH_WORDS = {"provider_name": "stripe"}


def _path_values(targets) -> dict[str, str]:
    return {**PATH_WORDS, **{key: str(row.pk) for key, row in targets.items()}}


def _state(objects) -> tuple:
    counts = hostile.row_counts()
    # A refused sign-in is recorded on purpose: the audit log's failed sign-ins.
    failed_sign_ins = AuditEntry.objects.filter(action=audit.SIGN_IN_FAILED).count()
    counts["accounts.AuditEntry"] -= failed_sign_ins
    return counts, hostile.rows_of(objects)


def _assert_answered(response, must_refuse: bool, before, after, what: str) -> None:
    status = response.status_code
    assert status < 500, f"{what}: {status} {response.content[:300]!r}"
    if must_refuse:
        assert 400 <= status < 500, f"{what}: unstorable text accepted with {status}"
    if status >= 400:
        hostile.assert_error_shape(response)
        assert after == before, f"{what}: refused with {status} but the database changed"


def _bodies(operation: hostile.Operation):
    """One hostile value per body, among ordinary values for the required fields: each
    property in turn, then unstorable text as an unknown field's name and as the whole body."""
    base = hostile.base_body(operation)
    for name, property_schema in operation.properties.items():
        for value in hostile.values_for(property_schema):
            yield {**base, name: value}
    for value in hostile.UNSTORABLE:
        yield {**base, value: "unknown field"}
        yield value


@pytest.mark.parametrize("operation", hostile.json_writes(), ids=str)
def test_json_writes_refuse_hostile_values_cleanly(client, targets, operation):
    url = hostile.url_for(operation, _path_values(targets))
    named = [o for key, o in targets.items() if f"{{{key.split('.')[-1]}}}" in operation.path]

    for body in _bodies(operation):
        before = _state(named)
        response = client.generic(
            operation.method, url, hostile.json_body(body), content_type="application/json"
        )
        what = f"{operation} {body!r:.80}"
        _assert_answered(response, hostile.is_unstorable(body), before, _state(named), what)


def _read(response) -> None:
    if response.streaming:
        b"".join(response.streaming_content)


@pytest.mark.parametrize("operation", hostile.queries(), ids=str)
def test_query_parameters_refuse_hostile_values_cleanly(client, targets, operation):
    url = hostile.url_for(operation, _path_values(targets))

    for name in operation.query:
        for value in hostile.HOSTILE:
            before = _state([])
            response = client.get(f"{url}?{hostile.query_string(name, value)}")
            _read(response)
            # A lone surrogate cannot travel in a URL: its bytes arrive, and decode as U+FFFD.
            must_refuse = value == hostile.NUL
            _assert_answered(response, must_refuse, before, _state([]), f"{operation} ?{name}")


def test_the_sweep_covers_the_endpoints_of_every_app():
    writes = {operation.path.split("/")[2] for operation in hostile.json_writes()}
    reads = {operation.path for operation in hostile.queries()}

    assert {"assistants", "auth", "contacts", "conversations", "integrations"} <= writes
    assert {"tags", "users", "webhooks", "ai"} <= writes
    assert {"/api/analytics/export.csv", "/api/ai/usage/", "/api/conversations/"} <= reads


REACHES_THE_SERVICE = {
    "POST /api/tags/",
    "POST /api/users/",
    "POST /api/conversations/",
    "POST /api/conversations/{id}/rating/",
    "POST /api/assistants/{id}/knowledge/",
    "POST /api/assistants/{id}/schedules/",
    "POST /api/webhooks/sandbox/{integration_id}/",
}


def test_the_ordinary_bodies_are_accepted_so_hostile_values_reach_the_services(client, targets):
    accepted = set()
    for operation in hostile.json_writes():
        if str(operation) not in REACHES_THE_SERVICE:
            continue
        url = hostile.url_for(operation, _path_values(targets))
        body = hostile.json_body(hostile.base_body(operation))
        response = client.generic(operation.method, url, body, content_type="application/json")
        if 200 <= response.status_code < 300:
            accepted.add(str(operation))

    assert accepted == REACHES_THE_SERVICE
