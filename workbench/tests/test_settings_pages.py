"""The workbench's settings pages (server side): notification preferences, saved replies,
auto-assignment, tags and contact attributes — who may open them, what a form changes, and
that refused input changes nothing."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from conversations.models import ContactAttribute, Conversation, Tag
from conversations.tests.factories import ConversationFactory, TagFactory
from integrations.tests.factories import IntegrationFactory
from workbench.models import (
    AgentCapacity,
    ChannelAssignment,
    NotificationPreference,
    SavedReply,
    WorkspaceAlerts,
)

pytestmark = pytest.mark.django_db

ADMIN_PAGES = ["settings-assignment", "settings-tags", "settings-contact-attributes"]
MEMBER_PAGES = ["settings-notifications", "settings-saved-replies"]


@pytest.fixture
def as_admin(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def as_agent(client, agent_user):
    client.force_login(agent_user)
    return client


@pytest.mark.parametrize("name", ADMIN_PAGES + MEMBER_PAGES)
def test_admins_open_every_page(as_admin, name):
    assert as_admin.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_agents_are_refused_the_admin_pages(as_agent, name):
    assert as_agent.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", MEMBER_PAGES)
def test_agents_keep_their_own_notifications_and_replies(as_agent, name):
    assert as_agent.get(reverse(name)).status_code == 200


def test_the_workspace_page_links_to_the_workbench_settings(as_admin):
    page = as_admin.get(reverse("settings-workspace")).content.decode()

    for name in ("settings-assignment", "settings-saved-replies", "settings-tags"):
        assert f'href="{reverse(name)}"' in page


# --- notification preferences --------------------------------------------------------------------


def test_preferences_are_saved_from_the_form(as_agent, agent_user):
    response = as_agent.post(
        reverse("settings-notifications"), {"notify_assigned": "on", "browser": "on"}
    )

    assert response.status_code == 302
    stored = NotificationPreference.objects.get(user=agent_user)
    assert (stored.notify_assigned, stored.notify_mention, stored.browser, stored.sound) == (
        True,
        False,
        True,
        False,
    )


# --- saved replies -------------------------------------------------------------------------------


def test_an_agent_adds_a_personal_reply_and_edits_it(as_agent, agent_user):
    as_agent.post(reverse("settings-saved-replies"), {"short_code": "hi", "content": "Hello!"})
    reply = SavedReply.objects.get()

    as_agent.post(
        reverse("settings-saved-reply", args=[reply.pk]), {"short_code": "hi", "content": "Hey"}
    )

    reply.refresh_from_db()
    assert (reply.owner, reply.content) == (agent_user, "Hey")


def test_an_admin_adds_one_for_the_whole_workspace(as_admin):
    as_admin.post(
        reverse("settings-saved-replies"),
        {"short_code": "hours", "content": "9 to 5", "personal": "False"},
    )

    assert SavedReply.objects.get().owner_id is None


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"short_code": "two words", "content": "x"}, 400),
        ({"short_code": "x", "content": "   "}, 400),
        ({"short_code": "", "content": "x"}, 400),
        ({"short_code": "dup", "content": "again"}, 409),
    ],
)
def test_a_refused_reply_shows_the_form_again_and_adds_nothing(as_agent, agent_user, data, status):
    SavedReply.objects.create(
        workspace=agent_user.workspace, owner=agent_user, short_code="dup", content="x"
    )

    response = as_agent.post(reverse("settings-saved-replies"), data)

    assert response.status_code == status
    assert b'data-testid="form-error"' in response.content
    assert SavedReply.objects.count() == 1


def test_an_agent_cannot_change_the_workspaces_reply_nor_see_a_colleagues(
    as_agent, workspace, other_agent
):
    shared = SavedReply.objects.create(workspace=workspace, short_code="s", content="shared")
    theirs = SavedReply.objects.create(
        workspace=workspace, owner=other_agent, short_code="t", content="theirs"
    )

    edit = as_agent.post(
        reverse("settings-saved-reply", args=[shared.pk]), {"short_code": "s", "content": "x"}
    )
    delete = as_agent.post(reverse("settings-saved-reply-delete", args=[shared.pk]))
    other = as_agent.get(reverse("settings-saved-reply", args=[theirs.pk]))

    assert (edit.status_code, delete.status_code, other.status_code) == (403, 403, 404)
    assert set(SavedReply.objects.values_list("content", flat=True)) == {"shared", "theirs"}


# --- auto-assignment -----------------------------------------------------------------------------


def test_the_assignment_page_switches_a_channel_and_sets_capacity_and_the_alert(
    as_admin, workspace, agent_user
):
    channel = IntegrationFactory(workspace=workspace, platform="sandbox", name="Shop")

    as_admin.post(reverse("settings-assignment-channel", args=[channel.pk]), {"auto_assign": "on"})
    as_admin.post(reverse("settings-assignment-agent", args=[agent_user.pk]), {"capacity": "3"})
    as_admin.post(reverse("settings-assignment"), {"waiting_alert_minutes": "20"})
    page = as_admin.get(reverse("settings-assignment")).content.decode()

    assert ChannelAssignment.objects.get(integration=channel).auto_assign is True
    assert AgentCapacity.objects.get(user=agent_user).capacity == 3
    assert WorkspaceAlerts.objects.get(workspace=workspace).waiting_alert_minutes == 20
    assert 'data-testid="auto-assign-off"' in page

    as_admin.post(reverse("settings-assignment-channel", args=[channel.pk]), {})
    assert ChannelAssignment.objects.get(integration=channel).auto_assign is False


def test_bad_assignment_input_changes_nothing(as_admin, agent_user, workspace):
    capacity = as_admin.post(
        reverse("settings-assignment-agent", args=[agent_user.pk]), {"capacity": "-2"}
    )
    alert = as_admin.post(reverse("settings-assignment"), {"waiting_alert_minutes": "0"})

    assert (capacity.status_code, alert.status_code) == (400, 400)
    assert not AgentCapacity.objects.exists()
    assert not WorkspaceAlerts.objects.exists()


def test_another_workspaces_channel_and_member_are_not_found(as_admin, outsider):
    channel = IntegrationFactory(workspace=outsider.workspace, platform="sandbox")

    on = as_admin.post(
        reverse("settings-assignment-channel", args=[channel.pk]), {"auto_assign": "on"}
    )
    capacity = as_admin.post(
        reverse("settings-assignment-agent", args=[outsider.pk]), {"capacity": "3"}
    )

    assert (on.status_code, capacity.status_code) == (404, 404)
    assert not ChannelAssignment.objects.exists()
    assert not AgentCapacity.objects.exists()


# --- tags ----------------------------------------------------------------------------------------


def test_tags_are_renamed_recoloured_merged_and_deleted(as_admin, workspace):
    vip, gold, old = (TagFactory(workspace=workspace, name=n) for n in ("vip", "gold", "old"))
    conversation = ConversationFactory(workspace=workspace)
    conversation.tags.add(gold)

    as_admin.post(reverse("settings-tag", args=[vip.pk]), {"name": "VIP", "color": "#ff0000"})
    as_admin.post(reverse("settings-tag-merge", args=[gold.pk]), {"into": str(vip.pk)})
    confirm = as_admin.get(reverse("settings-tag-delete", args=[old.pk]))
    as_admin.post(reverse("settings-tag-delete", args=[old.pk]))

    assert confirm.status_code == 200
    assert list(Tag.objects.values_list("name", "color")) == [("VIP", "#ff0000")]
    assert [t.name for t in Conversation.objects.get(pk=conversation.pk).tags.all()] == ["VIP"]


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("settings-tag", {"name": "", "color": "#ff0000"}),
        ("settings-tag", {"name": "x", "color": "red"}),
        ("settings-tag", {"name": "taken", "color": "#ff0000"}),
        ("settings-tag-merge", {"into": "nope"}),
        ("settings-tag-merge", {"into": str(uuid.uuid4())}),
    ],
)
def test_bad_tag_edits_change_nothing(as_admin, workspace, path, data):
    tag = TagFactory(workspace=workspace, name="vip", color="#123456")
    TagFactory(workspace=workspace, name="taken")

    response = as_admin.post(reverse(path, args=[tag.pk]), data)

    assert response.status_code in (400, 409)
    tag.refresh_from_db()
    assert (tag.name, tag.color) == ("vip", "#123456")
    assert Tag.objects.count() == 2


def test_another_workspaces_tag_is_not_found(as_admin, outsider):
    foreign = TagFactory(workspace=outsider.workspace, name="theirs")

    for name in ("settings-tag", "settings-tag-merge", "settings-tag-delete"):
        response = as_admin.post(
            reverse(name, args=[foreign.pk]), {"name": "x", "color": "#000000"}
        )
        assert response.status_code == 404
    assert Tag.objects.get(pk=foreign.pk).name == "theirs"


# --- contact attributes --------------------------------------------------------------------------


def test_attributes_are_added_relabelled_and_deleted(as_admin, workspace):
    as_admin.post(
        reverse("settings-contact-attributes"), {"label": "Plan", "key": "plan", "type": "text"}
    )
    attribute = ContactAttribute.objects.get()
    as_admin.post(reverse("settings-contact-attribute", args=[attribute.pk]), {"label": "Contract"})
    assert ContactAttribute.objects.get().label == "Contract"

    as_admin.post(reverse("settings-contact-attribute-delete", args=[attribute.pk]))
    assert not ContactAttribute.objects.exists()


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"label": "Plan", "key": "no spaces", "type": "text"}, 400),
        ({"label": "Plan", "key": "plan", "type": "colour"}, 400),
        ({"label": "Again", "key": "taken", "type": "text"}, 409),
    ],
)
def test_bad_attributes_are_refused(as_admin, workspace, data, status):
    ContactAttribute.objects.create(workspace=workspace, key="taken", label="Taken")

    response = as_admin.post(reverse("settings-contact-attributes"), data)

    assert response.status_code == status
    assert ContactAttribute.objects.count() == 1
