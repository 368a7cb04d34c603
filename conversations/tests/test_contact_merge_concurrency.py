"""Merges at the same moment, on PostgreSQL: the same pair merged by two members (either way
round), an undo clicked twice, and a customer message arriving while their contact is folded
into another. One wins, the rest are refused, and nothing is left half-moved."""

from __future__ import annotations

import pytest
from django.db import transaction

from accounts.tests.factories import UserFactory
from conversations import services
from conversations.models import Contact, ContactIdentity, ContactMerge, Conversation, Message
from conversations.services import InboundMessage
from conversations.tests.factories import ContactFactory, ConversationFactory
from flame.exceptions import ConflictError
from flame.testing import race
from integrations.tests.factories import IntegrationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def channels(workspace):
    return [IntegrationFactory(workspace=workspace, platform="sandbox") for _ in range(2)]


def _customer(workspace, channel, name: str, external_id: str, status: str = "active") -> Contact:
    contact = ContactFactory(workspace=workspace, name=name, email="ana@shop.example")
    ContactIdentity.objects.create(contact=contact, integration=channel, external_id=external_id)
    ConversationFactory(workspace=workspace, contact=contact, integration=channel, status=status)
    return contact


def _merge(by, primary_id, secondary_id) -> str:
    try:
        services.contact_merge(
            by=by,
            primary=Contact.objects.get(pk=primary_id),
            secondary=Contact.objects.get(pk=secondary_id),
        )
    except ConflictError as exc:
        return exc.code
    return "merged"


def _assert_whole(kept: Contact, folded: Contact) -> None:
    """Everything of both is on the kept one; the folded one is hidden and empty."""
    assert Contact.objects.get(pk=folded.pk).merged_into_id == kept.pk
    assert Contact.objects.get(pk=kept.pk).merged_into_id is None
    assert ContactIdentity.objects.filter(contact=folded).count() == 0
    assert Conversation.objects.filter(contact=folded).count() == 0
    assert ContactIdentity.objects.filter(contact=kept).count() == 2
    assert Conversation.objects.filter(contact=kept).count() == 2


def test_the_same_pair_merged_both_ways_at_once(workspace, channels):
    members = UserFactory.create_batch(2, workspace=workspace, role="admin")
    ana = _customer(workspace, channels[0], "Ana", "ana-0")
    twin = _customer(workspace, channels[1], "Ana 2", "ana-1")
    directions = [(ana.pk, twin.pk), (twin.pk, ana.pk)]

    results = race(lambda n: _merge(members[n], *directions[n]), 2)

    assert sorted(results) == ["contact_already_merged", "merged"]
    merge = ContactMerge.objects.get()
    _assert_whole(merge.primary, merge.secondary)


def test_one_merge_asked_for_four_times_at_once(workspace, channels, admin_user):
    ana = _customer(workspace, channels[0], "Ana", "ana-0")
    twin = _customer(workspace, channels[1], "Ana 2", "ana-1")

    results = race(lambda n: _merge(admin_user, ana.pk, twin.pk), 4)

    assert sorted(results) == ["contact_already_merged"] * 3 + ["merged"]
    assert ContactMerge.objects.count() == 1
    _assert_whole(ana, twin)


def test_an_undo_clicked_twice_undoes_once(workspace, channels, admin_user):
    ana = _customer(workspace, channels[0], "Ana", "ana-0")
    twin = _customer(workspace, channels[1], "Ana 2", "ana-1")
    merge = services.contact_merge(by=admin_user, primary=ana, secondary=twin)

    def undo(n: int) -> str:
        try:
            services.contact_merge_undo(by=admin_user, merge=ContactMerge.objects.get(pk=merge.pk))
        except ConflictError as exc:
            return exc.code
        return "undone"

    assert sorted(race(undo, 2)) == ["contact_merge_undone", "undone"]
    assert Contact.objects.get(pk=twin.pk).merged_into_id is None
    assert list(
        Conversation.objects.filter(contact=twin).values_list("integration", flat=True)
    ) == [channels[1].pk]


@pytest.mark.parametrize("round_", range(6))
def test_a_customer_message_during_the_merge_lands_with_the_kept_contact(
    workspace, channels, admin_user, round_
):
    ana = _customer(workspace, channels[0], "Ana", "ana-0")
    # the customer's thread on the other channel is resolved: their message reopens it
    twin = _customer(workspace, channels[1], "Ana 2", "ana-1", status="resolved")

    def act(n: int) -> str:
        if n == 0:
            return _merge(admin_user, ana.pk, twin.pk)
        with transaction.atomic():
            services.message_receive_inbound(
                integration=channels[1],
                inbound=InboundMessage(external_contact_id="ana-1", external_id=f"m-{round_}"),
            )
        return "received"

    assert sorted(race(act, 2)) == ["merged", "received"]

    message = Message.objects.get(external_id=f"m-{round_}")
    assert message.conversation.contact_id == ana.pk
    assert message.conversation.status == "active"
    _assert_whole(ana, twin)
