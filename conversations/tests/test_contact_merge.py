"""Duplicate contacts: the suggestions (phone formats, e-mail case, who sees what), merging two
contacts into one and undoing it exactly, in any order the rules allow."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import audit
from accounts.models import AuditEntry
from accounts.tests.factories import UserFactory, WorkspaceFactory
from conversations import selectors, services
from conversations.models import (
    Contact,
    ContactIdentity,
    ContactMerge,
    Conversation,
    Event,
    Message,
)
from conversations.services.inbound import open_conversation_for
from conversations.tests.factories import ContactFactory, ConversationFactory, MessageFactory
from flame.exceptions import ConflictError, InvalidInput, NotFoundError, PermissionDeniedError
from integrations.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db


def _contact(workspace, **fields) -> Contact:
    return ContactFactory(workspace=workspace, **{"phone": "", "email": "", **fields})


def _pairs(user, **kwargs) -> list[tuple[str, str, tuple[str, ...]]]:
    return [
        (pair.primary.name, pair.secondary.name, pair.reasons)
        for pair in selectors.contact_duplicates_for(user=user, **kwargs)
    ]


# --- suggestions ---------------------------------------------------------------------------------


def test_phone_numbers_match_whatever_their_formatting(workspace, admin_user):
    _contact(workspace, name="Written", phone="+52 1 55 1234-5678")
    _contact(workspace, name="WhatsApp", phone="5215512345678")
    _contact(workspace, name="Dotted", phone="(521) 55.1234.5678")
    _contact(workspace, name="Slashed", phone="521/5512345678")
    _contact(workspace, name="Another", phone="+52 1 55 1234 5679")

    names = {frozenset(pair[:2]) for pair in _pairs(admin_user)}
    reasons = {pair[2] for pair in _pairs(admin_user)}

    # one group of four: each is paired with the one suggested to keep, not with every other
    assert len(names) == 3
    assert reasons == {("phone",)}
    assert "Another" not in {name for pair in names for name in pair}


def test_empty_short_and_worded_phones_never_match(workspace, admin_user):
    for phone in ("", "", "12345", "12 345", "123456", "123456", "call me", "call me"):
        _contact(workspace, phone=phone)
    _contact(workspace, phone="ext 1234567")
    _contact(workspace, phone="ext 1234567")

    assert _pairs(admin_user) == []


def test_e_mail_addresses_match_in_any_case(workspace, admin_user):
    _contact(workspace, name="Upper", email="Ana.Lopez@Shop.example")
    _contact(workspace, name="Lower", email="ana.lopez@shop.example")
    _contact(workspace, name="Other", email="ana.lopes@shop.example")
    _contact(workspace, name="Blank 1")
    _contact(workspace, name="Blank 2")

    assert {frozenset(pair[:2]) for pair in _pairs(admin_user)} == {frozenset({"Upper", "Lower"})}
    assert _pairs(admin_user)[0][2] == ("email",)


def test_a_pair_sharing_both_says_so_once(workspace, admin_user):
    _contact(workspace, name="One", phone="5215512345678", email="ana@shop.example")
    _contact(workspace, name="Two", phone="+52 1 55 1234 5678", email="ANA@shop.example")

    assert len(_pairs(admin_user)) == 1
    assert _pairs(admin_user)[0][2] == ("email", "phone")


def test_the_contact_to_keep_has_more_conversations_else_is_older(workspace, admin_user):
    older = _contact(workspace, name="Older", email="ana@shop.example")
    newer = _contact(workspace, name="Newer", email="ana@shop.example")
    Contact.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=3))
    assert _pairs(admin_user) == [("Older", "Newer", ("email",))]

    ConversationFactory(workspace=workspace, contact=newer)
    assert _pairs(admin_user) == [("Newer", "Older", ("email",))]


def test_merged_dismissed_and_other_workspaces_contacts_are_not_suggested(
    workspace, admin_user, outsider
):
    kept = _contact(workspace, name="Kept", email="ana@shop.example")
    folded = _contact(workspace, name="Folded", email="ana@shop.example")
    services.contact_merge(by=admin_user, primary=kept, secondary=folded)
    mine = _contact(workspace, name="Mine", phone="5215512345678")
    theirs = _contact(outsider.workspace, name="Theirs", phone="5215512345678")
    first = _contact(workspace, name="First", phone="5215599999999")
    second = _contact(workspace, name="Second", phone="5215599999999")

    services.contact_duplicate_dismiss(by=admin_user, first=second, second=first)
    services.contact_duplicate_dismiss(by=admin_user, first=first, second=second)  # again

    # Mine and Theirs share a phone number, but not a workspace
    assert (mine.workspace_id, theirs.workspace_id) == (
        admin_user.workspace_id,
        outsider.workspace_id,
    )
    assert _pairs(admin_user) == []
    assert _pairs(outsider) == []


def test_a_dismissed_pair_leaves_the_others_of_its_group_suggested(workspace, admin_user):
    keep = _contact(workspace, name="Keep", phone="5215512345678")
    ConversationFactory(workspace=workspace, contact=keep)
    twin = _contact(workspace, name="Twin", phone="5215512345678")
    third = _contact(workspace, name="Third", phone="5215512345678")
    Contact.objects.filter(pk=twin.pk).update(created_at=timezone.now() - timedelta(days=1))

    services.contact_duplicate_dismiss(by=admin_user, first=keep, second=third)

    assert sorted(_pairs(admin_user)) == [
        ("Keep", "Twin", ("phone",)),
        ("Twin", "Third", ("phone",)),
    ]


def test_agents_see_pairs_of_contacts_they_see(workspace, admin_user, agent_user, other_agent):
    mine = _contact(workspace, name="Mine", email="ana@shop.example")
    also_mine = _contact(workspace, name="Also mine", email="ana@shop.example")
    not_mine = _contact(workspace, name="Not mine", email="ana@shop.example")
    ConversationFactory(workspace=workspace, contact=mine, assigned_agent=agent_user)
    ConversationFactory(workspace=workspace, contact=also_mine, assigned_agent=agent_user)
    ConversationFactory(workspace=workspace, contact=not_mine, assigned_agent=other_agent)

    seen = {name for pair in _pairs(agent_user) for name in pair[:2]}

    assert seen == {"Mine", "Also mine"}
    assert {name for pair in _pairs(admin_user) for name in pair[:2]} == {
        "Mine",
        "Also mine",
        "Not mine",
    }


def test_one_contacts_suggestions(workspace, admin_user, agent_user):
    ana = _contact(workspace, name="Ana", phone="5215512345678", email="ana@shop.example")
    _contact(workspace, name="Phone twin", phone="+52 1 55 1234 5678")
    _contact(workspace, name="Mail twin", email="ANA@shop.example")
    _contact(workspace, name="Unrelated 1", email="bo@shop.example")
    _contact(workspace, name="Unrelated 2", email="bo@shop.example")

    found = _pairs(admin_user, contact_id=ana.pk)

    assert {frozenset(pair[:2]) for pair in found} == {
        frozenset({"Ana", "Phone twin"}),
        frozenset({"Ana", "Mail twin"}),
    }
    with pytest.raises(NotFoundError):
        selectors.contact_duplicates_for(user=agent_user, contact_id=ana.pk)  # not theirs


def test_suggested_contacts_carry_their_channels_and_visible_conversations(
    workspace, agent_user, other_agent
):
    whatsapp = IntegrationFactory(workspace=workspace, platform="whatsapp")
    ana = _contact(workspace, name="Ana", email="ana@shop.example")
    twin = _contact(workspace, name="Twin", email="ana@shop.example")
    ContactIdentity.objects.create(contact=ana, integration=whatsapp, external_id="5215512345678")
    ConversationFactory(workspace=workspace, contact=ana, assigned_agent=agent_user)
    ConversationFactory(workspace=workspace, contact=ana, assigned_agent=other_agent)
    ConversationFactory(workspace=workspace, contact=twin, assigned_agent=agent_user)

    [pair] = selectors.contact_duplicates_for(user=agent_user)

    assert pair.primary == ana
    assert [i.integration.platform for i in pair.primary.identities.all()] == ["whatsapp"]
    assert (pair.primary.conversation_count, pair.secondary.conversation_count) == (1, 1)


# --- merging -------------------------------------------------------------------------------------


@pytest.fixture
def channels(workspace):
    return {
        "whatsapp": IntegrationFactory(workspace=workspace, platform="whatsapp"),
        "instagram": IntegrationFactory(workspace=workspace, platform="instagram"),
        "telegram": IntegrationFactory(workspace=workspace, platform="telegram"),
    }


@pytest.fixture
def pair(workspace, channels, agent_user):
    """Ana as Instagram knows her (kept) and as WhatsApp knows her (folded in)."""
    kept = _contact(
        workspace,
        name="Ana López",
        note="Wholesale customer.",
        attributes={"plan": "gold"},
        metadata={"source": "instagram"},
    )
    folded = _contact(
        workspace,
        name="ana",
        phone="+52 1 55 1234 5678",
        email="ana@shop.example",
        avatar_url="https://cdn.example/ana.jpg",
        note="Prefers mornings.",
        attributes={"plan": "silver", "city": "CDMX"},
        metadata={"source": "whatsapp", "locale": "es-MX"},
    )
    kept_identity = ContactIdentity.objects.create(
        contact=kept, integration=channels["instagram"], external_id="IGSID-1"
    )
    folded_identity = ContactIdentity.objects.create(
        contact=folded, integration=channels["whatsapp"], external_id="5215512345678"
    )
    kept_chat = ConversationFactory(
        workspace=workspace,
        contact=kept,
        integration=channels["instagram"],
        platform="instagram",
        assigned_agent=agent_user,
    )
    folded_chat = ConversationFactory(
        workspace=workspace,
        contact=folded,
        integration=channels["whatsapp"],
        platform="whatsapp",
        assigned_agent=agent_user,
    )
    MessageFactory(conversation=folded_chat, content="¿Tienen envío?")
    note = services.note_add(by=agent_user, conversation=folded_chat, content="Asked twice.")
    return {
        "kept": kept,
        "folded": folded,
        "kept_identity": kept_identity,
        "folded_identity": folded_identity,
        "kept_chat": kept_chat,
        "folded_chat": folded_chat,
        "note": note,
    }


def _state() -> dict:
    """Everything a merge touches, to compare before and after an undo."""
    return {
        "contacts": list(
            Contact.objects.order_by("pk").values(
                "pk",
                "name",
                "phone",
                "email",
                "avatar_url",
                "note",
                "attributes",
                "metadata",
                "merged_into",
                "merged_at",
            )
        ),
        "identities": list(ContactIdentity.objects.order_by("pk").values("pk", "contact_id")),
        "conversations": list(Conversation.objects.order_by("pk").values("pk", "contact_id")),
        "messages": list(Message.objects.order_by("pk").values("pk", "conversation_id")),
    }


def test_merging_moves_everything_to_the_contact_kept(pair, admin_user):
    kept, folded = pair["kept"], pair["folded"]

    merge = services.contact_merge(by=admin_user, primary=kept, secondary=folded)

    kept.refresh_from_db()
    folded.refresh_from_db()
    assert (kept.name, kept.phone, kept.email, kept.avatar_url) == (
        "Ana López",
        "+52 1 55 1234 5678",
        "ana@shop.example",
        "https://cdn.example/ana.jpg",
    )
    assert kept.note == "Wholesale customer.\n\nPrefers mornings."
    assert kept.attributes == {"plan": "gold", "city": "CDMX"}
    assert kept.metadata == {"source": "instagram", "locale": "es-MX"}
    assert set(kept.identities.values_list("external_id", flat=True)) == {
        "IGSID-1",
        "5215512345678",
    }
    assert set(kept.conversations.all()) == {pair["kept_chat"], pair["folded_chat"]}
    # the private note (a message of the conversation) and the thread moved with it
    assert Message.objects.get(pk=pair["note"].pk).conversation.contact_id == kept.pk
    # the folded contact is kept, hidden
    assert folded.merged_into_id == kept.pk
    assert folded.merged_at == merge.created_at
    assert folded.name == "ana"
    assert not folded.identities.exists()
    assert not folded.conversations.exists()
    assert list(selectors.contact_list_for(user=admin_user)) == [kept]
    assert list(selectors.contact_list_for(user=admin_user, search="ana")) == [kept]
    with pytest.raises(NotFoundError):
        selectors.contact_get_for(user=admin_user, contact_id=folded.pk)
    # the record holds what the undo needs
    assert merge.identity_ids == [str(pair["folded_identity"].pk)]
    assert merge.conversation_ids == [str(pair["folded_chat"].pk)]
    assert merge.undo_until == merge.created_at + timedelta(days=30)
    assert merge.merged_by == admin_user
    assert merge.changes == {
        "phone": {"before": "", "after": "+52 1 55 1234 5678"},
        "email": {"before": "", "after": "ana@shop.example"},
        "avatar_url": {"before": "", "after": "https://cdn.example/ana.jpg"},
        "note": {
            "before": "Wholesale customer.",
            "after": "Wholesale customer.\n\nPrefers mornings.",
        },
        "attributes": {"added": {"city": "CDMX"}},
        "metadata": {"added": {"locale": "es-MX"}},
    }


def test_a_merge_is_audited_and_announced(pair, admin_user, agent_user):
    kept, folded = pair["kept"], pair["folded"]
    last_event = Event.objects.order_by("-id").values_list("id", flat=True).first()

    merge = services.contact_merge(by=agent_user, primary=kept, secondary=folded)

    entry = AuditEntry.objects.get(action=audit.CONTACT_MERGED)
    assert (entry.actor_user, entry.target_type, entry.target_id) == (
        agent_user,
        "contact",
        str(kept.pk),
    )
    assert entry.data == {
        "merge_id": str(merge.pk),
        "primary": {"id": str(kept.pk), "name": "Ana López"},
        "secondary": {"id": str(folded.pk), "name": "ana"},
        "identities": 1,
        "conversations": 1,
    }
    events = list(Event.objects.filter(id__gt=last_event).order_by("id"))
    updated = [e for e in events if e.kind == "conversation:updated"]
    assert sorted(e.conversation_id for e in updated) == sorted(
        [pair["kept_chat"].pk, pair["folded_chat"].pk]
    )
    assert all(e.payload["contact_changed"] is True for e in updated)
    assert {e.payload["conversation"]["contact_id"] for e in updated} == {str(kept.pk)}
    assert {e.payload["conversation"]["contact_email"] for e in updated} == {"ana@shop.example"}
    [merged] = [e for e in events if e.kind == "contact:merged"]
    assert merged.audience == Event.Audience.ADMINS
    assert merged.payload["contact"]["id"] == str(kept.pk)
    assert merged.payload["contact"]["email"] == "ana@shop.example"
    assert {i["external_id"] for i in merged.payload["contact"]["identities"]} == {
        "IGSID-1",
        "5215512345678",
    }
    assert merged.payload["merged_contact"]["id"] == str(folded.pk)
    assert merged.payload["merge"]["id"] == str(merge.pk)
    assert merged.payload["merge"]["undoable"] is True
    assert [e.kind for e in events].count("contact:merged") == 1
    # the admins receive it, the agent (who sees conversations, not every contact) does not
    assert (
        selectors.event_list_for(user=agent_user, after=last_event or 0)
        .filter(kind="contact:merged")
        .count()
        == 0
    )


def test_a_conversation_opened_on_the_folded_contact_goes_to_the_kept_one(
    pair, admin_user, channels
):
    """Ingestion that read the identity just before the merge opens the conversation on the
    contact kept, never on the hidden one."""
    kept, folded = pair["kept"], pair["folded"]
    Conversation.objects.filter(pk=pair["folded_chat"].pk).update(status="resolved")
    services.contact_merge(by=admin_user, primary=kept, secondary=folded)

    conversation, created = open_conversation_for(channels["whatsapp"], folded)

    assert (conversation.pk, created) == (pair["folded_chat"].pk, False)  # reopened, on kept
    assert conversation.contact_id == kept.pk
    assert not Conversation.objects.filter(contact=folded).exists()


@pytest.mark.parametrize(
    ("kept_fields", "folded_fields"),
    [({}, {}), ({"name": "", "phone": "1"}, {"name": "Folded", "note": ""})],
)
def test_undo_restores_exactly(workspace, pair, admin_user, kept_fields, folded_fields):
    Contact.objects.filter(pk=pair["kept"].pk).update(**kept_fields)
    Contact.objects.filter(pk=pair["folded"].pk).update(**folded_fields)
    before = _state()
    merge = services.contact_merge(
        by=admin_user,
        primary=Contact.objects.get(pk=pair["kept"].pk),
        secondary=Contact.objects.get(pk=pair["folded"].pk),
    )
    assert _state() != before

    undone = services.contact_merge_undo(by=admin_user, merge=merge)

    assert _state() == before
    assert (undone.undone_by, undone.undone_at is not None) == (admin_user, True)
    assert set(selectors.contact_list_for(user=admin_user)) == {pair["kept"], pair["folded"]}


def test_undo_is_audited_and_announced(pair, admin_user):
    merge = services.contact_merge(by=admin_user, primary=pair["kept"], secondary=pair["folded"])
    last_event = Event.objects.order_by("-id").values_list("id", flat=True).first()

    services.contact_merge_undo(by=admin_user, merge=merge)

    entry = AuditEntry.objects.get(action=audit.CONTACT_MERGE_UNDONE)
    assert entry.data["merge_id"] == str(merge.pk)
    assert entry.data["secondary"] == {"id": str(pair["folded"].pk), "name": "ana"}
    events = list(Event.objects.filter(id__gt=last_event).order_by("id"))
    moved_back = [
        e.payload["conversation"]["contact_id"]
        for e in events
        if e.kind == "conversation:updated" and e.conversation_id == pair["folded_chat"].pk
    ]
    assert moved_back == [str(pair["folded"].pk)]
    [undone] = [e for e in events if e.kind == "contact:merge_undone"]
    assert undone.audience == Event.Audience.ADMINS
    assert undone.payload["merged_contact"]["identities"][0]["external_id"] == "5215512345678"
    assert undone.payload["merge"]["undone_at"] is not None


def test_undo_keeps_what_was_edited_after_the_merge(pair, admin_user):
    merge = services.contact_merge(by=admin_user, primary=pair["kept"], secondary=pair["folded"])
    services.contact_edit(
        contact=Contact.objects.get(pk=pair["kept"].pk),
        data={"email": "ana.lopez@shop.example", "note": "Wholesale; mornings only."},
    )
    Contact.objects.filter(pk=pair["kept"].pk).update(
        attributes={"plan": "gold", "city": "Monterrey"}
    )

    services.contact_merge_undo(by=admin_user, merge=merge)

    kept = Contact.objects.get(pk=pair["kept"].pk)
    assert kept.email == "ana.lopez@shop.example"  # edited since: the newer truth stays
    assert kept.note == "Wholesale; mornings only."
    assert kept.attributes == {"plan": "gold", "city": "Monterrey"}
    assert (kept.phone, kept.avatar_url) == ("", "")  # untouched since: taken back
    assert kept.metadata == {"source": "instagram"}


def test_conversations_started_after_the_merge_follow_their_channel_account(
    workspace, pair, admin_user, channels
):
    kept, folded = pair["kept"], pair["folded"]
    telegram = ContactIdentity.objects.create(
        contact=folded, integration=channels["telegram"], external_id="tg-77"
    )
    merge = services.contact_merge(by=admin_user, primary=kept, secondary=folded)
    # after the merge: the customer writes on Telegram (only the folded contact's account)
    # and on Instagram (the kept contact's own account), once each in a new conversation
    on_telegram, _ = open_conversation_for(channels["telegram"], Contact.objects.get(pk=kept.pk))
    Conversation.objects.filter(pk=pair["kept_chat"].pk).update(status="resolved")
    on_instagram = ConversationFactory(
        workspace=workspace,
        contact=kept,
        integration=channels["instagram"],
        platform="instagram",
        status="archived",
    )

    services.contact_merge_undo(by=admin_user, merge=merge)

    assert Conversation.objects.get(pk=on_telegram.pk).contact_id == folded.pk
    assert Conversation.objects.get(pk=on_instagram.pk).contact_id == kept.pk
    assert Conversation.objects.get(pk=pair["folded_chat"].pk).contact_id == folded.pk
    assert ContactIdentity.objects.get(pk=telegram.pk).contact_id == folded.pk


def test_undo_after_the_deadline_is_refused(pair, admin_user, settings):
    settings.CONTACT_MERGE_UNDO_DAYS = 7
    merge = services.contact_merge(by=admin_user, primary=pair["kept"], secondary=pair["folded"])
    assert merge.undo_until == merge.created_at + timedelta(days=7)
    ContactMerge.objects.filter(pk=merge.pk).update(
        undo_until=timezone.now() - timedelta(seconds=1)
    )
    merge.refresh_from_db()
    merged = _state()

    with pytest.raises(ConflictError) as refused:
        services.contact_merge_undo(by=admin_user, merge=merge)

    assert refused.value.code == "contact_merge_undo_expired"
    assert refused.value.details == {"undo_until": merge.undo_until.isoformat()}
    assert _state() == merged
    assert not AuditEntry.objects.filter(action=audit.CONTACT_MERGE_UNDONE).exists()


def test_a_merge_is_undone_once(pair, admin_user):
    merge = services.contact_merge(by=admin_user, primary=pair["kept"], secondary=pair["folded"])
    services.contact_merge_undo(by=admin_user, merge=merge)
    undone = _state()

    with pytest.raises(ConflictError) as refused:
        services.contact_merge_undo(by=admin_user, merge=merge)

    assert refused.value.code == "contact_merge_undone"
    assert _state() == undone


def test_undoing_an_earlier_merge_into_the_same_contact_moves_only_its_own(
    workspace, pair, admin_user, channels
):
    kept, folded = pair["kept"], pair["folded"]
    third = _contact(workspace, name="Ana T", email="ana@other.example", note="From Telegram.")
    third_identity = ContactIdentity.objects.create(
        contact=third, integration=channels["telegram"], external_id="tg-1"
    )
    third_chat = ConversationFactory(
        workspace=workspace, contact=third, integration=channels["telegram"], platform="telegram"
    )
    first = services.contact_merge(by=admin_user, primary=kept, secondary=folded)
    second = services.contact_merge(
        by=admin_user, primary=Contact.objects.get(pk=kept.pk), secondary=third
    )

    services.contact_merge_undo(by=admin_user, merge=first)

    kept = Contact.objects.get(pk=kept.pk)
    assert set(kept.identities.all()) == {pair["kept_identity"], third_identity}
    assert set(kept.conversations.all()) == {pair["kept_chat"], third_chat}
    assert kept.email == ""  # the first merge's, taken back; the second brought none
    assert kept.note == "Wholesale customer.\n\nPrefers mornings.\n\nFrom Telegram."
    assert Contact.objects.get(pk=third.pk).merged_into_id == kept.pk
    # and the later one can still be undone
    services.contact_merge_undo(by=admin_user, merge=second)
    assert list(Contact.objects.get(pk=third.pk).conversations.all()) == [third_chat]
    assert Contact.objects.get(pk=kept.pk).note == "Wholesale customer.\n\nPrefers mornings."


def test_chained_merges_undo_latest_first(workspace, pair, admin_user, channels):
    kept, folded = pair["kept"], pair["folded"]
    final = _contact(workspace, name="Ana (CRM)")
    first = services.contact_merge(by=admin_user, primary=kept, secondary=folded)
    second = services.contact_merge(
        by=admin_user, primary=final, secondary=Contact.objects.get(pk=kept.pk)
    )
    final_identities = set(final.identities.values_list("external_id", flat=True))
    assert final_identities == {"IGSID-1", "5215512345678"}
    # a customer message on WhatsApp now reaches the last contact kept
    conversation, _ = open_conversation_for(channels["whatsapp"], folded)
    assert conversation.contact_id == final.pk
    assert not selectors.contact_merge_get_for(user=admin_user, merge_id=first.pk).is_undoable

    with pytest.raises(ConflictError) as refused:
        services.contact_merge_undo(by=admin_user, merge=first)
    assert refused.value.code == "contact_merge_undo_later_first"

    services.contact_merge_undo(by=admin_user, merge=second)
    assert set(Contact.objects.get(pk=kept.pk).conversations.all()) == {
        pair["kept_chat"],
        pair["folded_chat"],
    }
    services.contact_merge_undo(by=admin_user, merge=first)
    assert list(Contact.objects.get(pk=folded.pk).conversations.all()) == [pair["folded_chat"]]
    assert not final.conversations.exists()


def test_merges_are_refused_when_they_cannot_be_one_contact(workspace, pair, admin_user, channels):
    kept, folded = pair["kept"], pair["folded"]
    outsider_contact = _contact(WorkspaceFactory())
    same_channel = _contact(workspace, name="Second Instagram account")
    ContactIdentity.objects.create(
        contact=same_channel, integration=channels["instagram"], external_id="IGSID-2"
    )
    before = _state()

    with pytest.raises(InvalidInput):
        services.contact_merge(by=admin_user, primary=kept, secondary=kept)
    with pytest.raises(InvalidInput):
        services.contact_merge(by=admin_user, primary=kept, secondary=outsider_contact)
    with pytest.raises(ConflictError) as same:
        services.contact_merge(by=admin_user, primary=kept, secondary=same_channel)

    assert same.value.code == "contact_same_channel"
    assert _state() == before
    services.contact_merge(by=admin_user, primary=kept, secondary=folded)
    with pytest.raises(ConflictError) as again:
        services.contact_merge(by=admin_user, primary=same_channel, secondary=folded)
    with pytest.raises(ConflictError):
        services.contact_merge(by=admin_user, primary=folded, secondary=same_channel)
    assert again.value.code == "contact_already_merged"
    assert ContactMerge.objects.count() == 1


def test_admins_and_the_member_who_merged_may_undo(pair, admin_user, agent_user, other_agent):
    merge = services.contact_merge(by=agent_user, primary=pair["kept"], secondary=pair["folded"])
    merged = _state()

    with pytest.raises(PermissionDeniedError):
        services.contact_merge_undo(by=other_agent, merge=merge)
    with pytest.raises(PermissionDeniedError):
        services.contact_merge_undo(by=UserFactory(role="admin"), merge=merge)  # elsewhere

    assert _state() == merged
    services.contact_merge_undo(by=agent_user, merge=merge)
    second = services.contact_merge(
        by=agent_user,
        primary=Contact.objects.get(pk=pair["kept"].pk),
        secondary=Contact.objects.get(pk=pair["folded"].pk),
    )
    services.contact_merge_undo(by=admin_user, merge=second)
    assert ContactMerge.objects.filter(undone_at__isnull=False).count() == 2
