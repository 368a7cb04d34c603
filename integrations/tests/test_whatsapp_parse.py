"""parse() on its own: identity keying, ordering, decisions and robustness (no database)."""

from __future__ import annotations

import json

import pytest

from conversations.services import EchoedMessage, InboundMessage
from conversations.types import InboundAttachment
from integrations.providers.base import Deletion, Edit, Reaction, Routed, StatusUpdate
from integrations.providers.whatsapp.parse import parse
from integrations.tests.test_whatsapp import PHONE_NUMBER_ID, payload

ACCOUNTS = {PHONE_NUMBER_ID}
BUSINESS = "525512340000"


def body(value: dict, field: str = "messages") -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": BUSINESS, "phone_number_id": PHONE_NUMBER_ID},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "104729835612345", "changes": [{"value": value, "field": field}]}],
    }


def text(message_id: str, sender: str, bsuid: str, words: str, timestamp: str = "1789482605"):
    return {
        "from": sender,
        "from_user_id": bsuid,
        "id": message_id,
        "timestamp": timestamp,
        "type": "text",
        "text": {"body": words},
    }


def items(payload_dict: dict) -> list:
    routed = parse(payload_dict, account_ids=ACCOUNTS)
    assert all(r.account_id == PHONE_NUMBER_ID for r in routed)
    return [r.item for r in routed]


def test_username_adopters_with_empty_wa_id_are_never_merged():
    contacts = [
        {"profile": {"name": "Lucía"}, "wa_id": "", "user_id": "MX.111"},
        {"profile": {"name": "Pedro"}, "wa_id": "", "user_id": "MX.222"},
    ]
    messages = [
        text("wamid.1", "", "MX.111", "Hola"),
        text("wamid.2", "", "MX.222", "Buenas"),
    ]

    parsed = items(body({"contacts": contacts, "messages": messages}))

    assert [(m.external_contact_id, m.contact_name, m.contact_phone) for m in parsed] == [
        ("MX.111", "Lucía", ""),
        ("MX.222", "Pedro", ""),
    ]
    assert [m.metadata["user_id"] for m in parsed] == ["MX.111", "MX.222"]


def test_names_are_matched_by_wa_id_whatever_the_order_of_contacts():
    contacts = [
        {"profile": {"name": "Carlos"}, "wa_id": "5215511112222", "user_id": "MX.2"},
        {"profile": {"name": "María"}, "wa_id": "5215587654321", "user_id": "MX.1"},
    ]
    messages = [text("wamid.1", "5215587654321", "", "Hola")]

    (message,) = items(body({"contacts": contacts, "messages": messages}))

    assert (message.external_contact_id, message.contact_name) == ("5215587654321", "María")
    assert message.metadata["user_id"] == "MX.1"  # taken from the matching contact


def test_sender_without_from_falls_back_to_the_contact_found_by_bsuid():
    contacts = [{"profile": {"name": "María"}, "wa_id": "5215587654321", "user_id": "MX.1"}]
    message = text("wamid.1", "", "MX.1", "Hola")
    del message["from"]

    (parsed,) = items(body({"contacts": contacts, "messages": [message]}))

    assert (parsed.external_contact_id, parsed.contact_phone) == ("5215587654321", "+5215587654321")


def test_message_without_any_sender_id_is_skipped():
    assert items(body({"messages": [text("wamid.1", "", "", "¿Quién soy?")]})) == []


def edit_of(target: str, edited: dict, timestamp: str = "160") -> dict:
    return {
        "from": "5215587654321",
        "id": "wamid.2",
        "timestamp": timestamp,
        "type": "edit",
        "edit": {"original_message_id": target, "message": edited},
    }


def test_edit_listed_before_its_original_is_applied_after_it():
    original = text("wamid.1", "5215587654321", "MX.1", "mesa chica", timestamp="100")
    edit = edit_of("wamid.1", {"type": "text", "text": {"body": "mesa mediana"}})

    parsed = items(body({"messages": [edit, original]}))

    assert [type(item) for item in parsed] == [InboundMessage, Edit]
    assert parsed[1] == Edit(target_external_id="wamid.1", content="mesa mediana")


def test_edited_caption_becomes_the_new_content():
    edit = edit_of("wamid.1", {"type": "image", "image": {"id": "55", "caption": "en gris"}})

    assert items(body({"messages": [edit]})) == [
        Edit(target_external_id="wamid.1", content="en gris")
    ]


def test_reaction_without_emoji_removes_it():
    reaction = {
        "from": "5215587654321",
        "id": "wamid.9",
        "timestamp": "1",
        "type": "reaction",
        "reaction": {"message_id": "wamid.OUT"},
    }

    assert items(body({"messages": [reaction]})) == [
        Reaction(target_external_id="wamid.OUT", external_contact_id="5215587654321", emoji="")
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"id": "w.1", "status": "played", "timestamp": "5"}, [StatusUpdate("w.1", "read")]),
        ({"id": "w.1", "status": "deleted", "timestamp": "5"}, []),
        ({"status": "read", "timestamp": "5"}, []),
        ({"id": "w.1", "status": "failed"}, [StatusUpdate("w.1", "failed", "", "")]),
        (
            {
                "id": "w.1",
                "status": "failed",
                "errors": [{"code": 130472, "title": "User's number is part of an experiment"}],
            },
            [StatusUpdate("w.1", "failed", "130472", "User's number is part of an experiment")],
        ),
    ],
)
def test_status_mapping(raw, expected):
    assert items(body({"statuses": [raw]})) == expected


def test_echo_of_a_username_adopter_belongs_to_their_bsuid():
    echo = {
        "from": BUSINESS,
        "to": "",
        "to_user_id": "MX.111",
        "id": "wamid.E1",
        "timestamp": "1789482900",
        "type": "image",
        "image": {"id": "77", "mime_type": "image/jpeg", "caption": "Mírala"},
    }

    (parsed,) = items(body({"message_echoes": [echo]}, field="smb_message_echoes"))

    assert parsed == EchoedMessage(
        external_id="wamid.E1",
        external_contact_id="MX.111",
        content="Mírala",
        type="image",
        metadata={
            "platform_type": "image",
            "platform_timestamp": "2026-09-15T14:35:00+00:00",
            "user_id": "MX.111",
            "media_id": "77",
            "mime_type": "image/jpeg",
            "caption": "Mírala",
        },
        # The business's photo is downloaded like a customer's, by its media id.
        attachments=(
            InboundAttachment(
                kind="image", source_id="77", mime_type="image/jpeg", caption="Mírala"
            ),
        ),
    )


def test_echoed_revoke_and_reaction_change_their_target():
    echoes = [
        {"from": BUSINESS, "to": "5215587654321", "id": "wamid.E2", "timestamp": "2",
         "type": "revoke", "revoke": {"original_message_id": "wamid.E1"}},
        {"from": BUSINESS, "to": "5215587654321", "id": "wamid.E3", "timestamp": "3",
         "type": "reaction", "reaction": {"message_id": "wamid.IN", "emoji": "👍"}},
    ]  # fmt: skip

    parsed = items(body({"message_echoes": echoes}, field="smb_message_echoes"))

    assert parsed == [
        Deletion(target_external_id="wamid.E1"),
        Reaction(target_external_id="wamid.IN", external_contact_id=BUSINESS, emoji="👍"),
    ]


def test_flow_submission_is_an_interactive_reply_with_its_answers():
    message = {
        "from": "5215587654321",
        "id": "wamid.F1",
        "timestamp": "1",
        "type": "interactive",
        "interactive": {
            "type": "nfm_reply",
            "nfm_reply": {"name": "flow", "body": "Sent", "response_json": '{"talla": "chica"}'},
        },
    }

    (parsed,) = items(body({"messages": [message]}))

    assert (parsed.type, parsed.content) == ("interactive", "Sent")
    assert parsed.metadata["flow_response"] == '{"talla": "chica"}'


def test_system_message_is_unsupported_with_its_text():
    message = {
        "from": "5215587654321",
        "id": "wamid.S1",
        "timestamp": "1",
        "type": "system",
        "system": {"body": "María changed their phone number", "type": "user_changed_number"},
    }

    (parsed,) = items(body({"messages": [message]}))

    assert (parsed.type, parsed.content) == ("unsupported", "María changed their phone number")
    assert parsed.metadata["platform_type"] == "system"


@pytest.mark.parametrize(
    "url",
    [
        "http://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1",
        "https://evil.example/whatsapp_business/attachments/?mid=1",
        "https://lookaside.fbsbx.com.evil.example/x",
        "https://[::1",
    ],
)
def test_media_urls_off_meta_hosts_are_not_kept(url):
    message = {
        "from": "5215587654321",
        "id": "wamid.M1",
        "timestamp": "1",
        "type": "image",
        "image": {"id": "9", "url": url},
    }

    (parsed,) = items(body({"messages": [message]}))

    assert (parsed.media_url, parsed.metadata["media_id"]) == ("", "9")


def test_reply_context_and_forwarding_are_kept():
    message = text("wamid.2", "5215587654321", "MX.1", "Esta")
    message["context"] = {"from": BUSINESS, "id": "wamid.OUT", "forwarded": True}

    (parsed,) = items(body({"messages": [message]}))

    assert parsed.reply_to_external_id == "wamid.OUT"
    assert parsed.metadata["forwarded"] is True


def test_entries_for_other_accounts_are_skipped():
    assert parse(json.loads(payload("unknown_account")), account_ids=ACCOUNTS) == []
    assert parse(json.loads(payload("text")), account_ids=set()) == []


def test_every_entry_and_change_is_visited():
    routed = parse(json.loads(payload("batch")), account_ids=ACCOUNTS | {"998877665544332"})

    assert [r.account_id for r in routed] == [PHONE_NUMBER_ID] * 4 + ["998877665544332"]
    assert all(isinstance(r, Routed) for r in routed)


@pytest.mark.parametrize(
    "junk",
    [
        {},
        {"object": "page", "entry": []},
        {"object": "whatsapp_business_account", "entry": "x"},
        {"object": "whatsapp_business_account", "entry": [None, 3, {"changes": "x"}]},
        {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": []}]}]},
        body({"messages": "x", "statuses": [1, None], "contacts": {"wa_id": "1"}}),
        body({"messages": [{"type": "text", "text": "hola", "from": ["x"], "id": {}}]}),
        body({"messages": [{"from": "52155", "type": "reaction", "reaction": "x"}]}),
        body({"message_echoes": [{"to": "", "id": "w"}]}, field="smb_message_echoes"),
        body({"statuses": [{"id": "w", "status": ["read"], "timestamp": {}}]}),
    ],
)
def test_unexpected_shapes_yield_nothing_and_never_raise(junk):
    assert parse(junk, account_ids=ACCOUNTS) == []


def test_odd_fields_inside_a_message_still_give_a_message():
    message = {"from": "52155", "id": "w", "timestamp": "soon", "type": "location", "location": []}

    (parsed,) = items(body({"messages": [message]}))

    assert (parsed.type, parsed.content, parsed.contact_phone) == ("location", "", "")
    assert parsed.metadata == {"platform_type": "location", "wa_id": "52155"}
