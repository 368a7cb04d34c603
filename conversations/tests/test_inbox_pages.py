"""The inbox page through Django's test client: access, scoping, filters, deep links, queries."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from channels.layers import InMemoryChannelLayer
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations import realtime
from conversations.models import Conversation, Event
from conversations.tests.factories import (
    ContactFactory,
    ConversationFactory,
    MessageFactory,
    TagFactory,
)
from conversations.web.inbox import LIST_PAGE_SIZE

pytestmark = pytest.mark.django_db


def _conversation(workspace, name: str, minutes_ago: int = 0, **fields) -> Conversation:
    return ConversationFactory(
        workspace=workspace,
        contact=ContactFactory(workspace=workspace, name=name),
        last_message_at=timezone.now() - timedelta(minutes=minutes_ago),
        **fields,
    )


def _listed_ids(response) -> list[str]:
    assert response.status_code == 200
    return [str(c.pk) for c in response.context["conversations"]]


def _boot(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="inbox-boot" type="application/json">')
    body = html[start:].split(">", 1)[1].split("</script>", 1)[0]
    return json.loads(body)


# --- access --------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, workspace):
    conversation = _conversation(workspace, "Carla")

    for path in ("/inbox/", f"/inbox/{conversation.pk}/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(f"/login/?next={path}")


def test_deep_link_to_another_workspace_is_404_and_changes_nothing(client, outsider, workspace):
    conversation = _conversation(workspace, "Carla", unread_count=3)
    events_before = Event.objects.count()
    client.force_login(outsider)

    response = client.get(f"/inbox/{conversation.pk}/")

    assert response.status_code == 404
    conversation.refresh_from_db()
    assert conversation.unread_count == 3
    assert Event.objects.count() == events_before


def test_deep_link_outside_an_agents_scope_is_404(client, agent_user, other_agent, workspace):
    theirs = _conversation(workspace, "Carla", assigned_agent=other_agent)
    queued = _conversation(workspace, "Dora")  # unassigned; the queue setting is off
    client.force_login(agent_user)

    assert client.get(f"/inbox/{theirs.pk}/").status_code == 404
    assert client.get(f"/inbox/{queued.pk}/").status_code == 404
    assert client.get("/inbox/not-a-uuid/").status_code == 404


def test_deep_link_renders_the_open_conversation_header(client, agent_user, workspace):
    conversation = _conversation(workspace, "Carla <b>Ruiz</b>", assigned_agent=agent_user)
    client.force_login(agent_user)

    response = client.get(f"/inbox/{conversation.pk}/")

    assert response.status_code == 200
    assert response.context["open_conversation"] == conversation
    html = response.content.decode()
    assert (
        'data-testid="thread-contact-name" data-field="name">Carla &lt;b&gt;Ruiz&lt;/b&gt;<' in html
    )
    assert "<b>Ruiz</b>" not in html
    assert _boot(response)["conversation"]["id"] == str(conversation.pk)


def test_page_has_no_inline_script(client, admin_user, workspace):
    _conversation(workspace, "Carla")
    client.force_login(admin_user)

    html = client.get("/inbox/").content.decode()

    scripts = [part.split(">", 1)[0] for part in html.split("<script")[1:]]
    assert all("src=" in tag or 'type="application/json"' in tag for tag in scripts), scripts
    assert not re.search(r"\son[a-z]+=", html)


# --- scoping -------------------------------------------------------------------------------------


def test_agent_sees_only_their_conversations(client, agent_user, other_agent, workspace, outsider):
    mine = _conversation(workspace, "Mine", assigned_agent=agent_user)
    _conversation(workspace, "Theirs", assigned_agent=other_agent)
    _conversation(workspace, "Queue")
    _conversation(outsider.workspace, "Elsewhere")
    client.force_login(agent_user)

    response = client.get("/inbox/")

    assert _listed_ids(response) == [str(mine.pk)]
    assert [tab["value"] for tab in response.context["tabs"]] == ["mine", "waiting"]
    html = response.content.decode()
    for hidden in ("Theirs", "Queue", "Elsewhere"):
        assert hidden not in html
    # An agent cannot widen the list by asking for another view.
    assert _listed_ids(client.get("/inbox/?view=all")) == [str(mine.pk)]
    assert _listed_ids(client.get("/inbox/?view=unassigned")) == [str(mine.pk)]


def test_agent_sees_the_unassigned_queue_when_the_workspace_allows(
    client, agent_user, other_agent, workspace
):
    workspace.settings = {"agents_see_unassigned": True}
    workspace.save()
    mine = _conversation(workspace, "Mine", 2, assigned_agent=agent_user)
    queued = _conversation(workspace, "Queue", 1)
    _conversation(workspace, "Theirs", assigned_agent=other_agent)
    client.force_login(agent_user)

    assert _listed_ids(client.get("/inbox/")) == [str(mine.pk)]
    assert _listed_ids(client.get("/inbox/?view=unassigned")) == [str(queued.pk)]
    response = client.get("/inbox/?view=unassigned")
    assert [tab["value"] for tab in response.context["tabs"]] == [
        "mine",
        "unassigned",
        "waiting",
    ]


def test_admin_sees_the_workspace_newest_first(client, admin_user, agent_user, workspace, outsider):
    older = _conversation(workspace, "Older", 10, assigned_agent=agent_user)
    newer = _conversation(workspace, "Newer", 1)
    _conversation(outsider.workspace, "Elsewhere")
    client.force_login(admin_user)

    response = client.get("/inbox/")

    assert _listed_ids(response) == [str(newer.pk), str(older.pk)]
    assert [tab["value"] for tab in response.context["tabs"]] == [
        "mine",
        "unassigned",
        "all",
        "waiting",
    ]
    assert _listed_ids(client.get("/inbox/?view=unassigned")) == [str(newer.pk)]
    assert _listed_ids(client.get("/inbox/?view=mine")) == []


# --- filters -------------------------------------------------------------------------------------


def test_admin_filters(client, admin_user, workspace):
    vip = TagFactory(workspace=workspace, name="vip")
    whatsapp_urgent = _conversation(workspace, "Wanda", 1, platform="whatsapp", priority="urgent")
    whatsapp_urgent.tags.add(vip)
    telegram = _conversation(workspace, "Tomás", 2, platform="telegram")
    resolved = _conversation(workspace, "Rita", 3, status="resolved")
    searched = _conversation(workspace, "Sofía", 4)
    MessageFactory(conversation=searched, content="my parcel never arrived")
    client.force_login(admin_user)

    # The default list is the open queue.
    assert set(_listed_ids(client.get("/inbox/"))) == {
        str(whatsapp_urgent.pk),
        str(telegram.pk),
        str(searched.pk),
    }
    assert _listed_ids(client.get("/inbox/?status=resolved")) == [str(resolved.pk)]
    assert len(_listed_ids(client.get("/inbox/?status=any"))) == 4
    assert _listed_ids(client.get("/inbox/?platform=telegram")) == [str(telegram.pk)]
    assert _listed_ids(client.get("/inbox/?priority=urgent")) == [str(whatsapp_urgent.pk)]
    assert _listed_ids(client.get(f"/inbox/?tag={vip.pk}")) == [str(whatsapp_urgent.pk)]
    assert _listed_ids(client.get("/inbox/?search=parcel")) == [str(searched.pk)]
    assert _listed_ids(client.get("/inbox/?search=tom")) == [str(telegram.pk)]
    # Unknown values are ignored rather than failing the page.
    assert len(_listed_ids(client.get("/inbox/?platform=fax&priority=x&tag=y&status=z"))) == 3


def test_filters_reach_the_page_scripts(client, admin_user, workspace):
    tag = TagFactory(workspace=workspace, name="vip")
    client.force_login(admin_user)

    boot = _boot(client.get(f"/inbox/?view=unassigned&platform=whatsapp&tag={tag.pk}"))

    assert boot["view"] == "unassigned"
    assert boot["filters"] == {
        "status": "active,pending",
        "platform": "whatsapp",
        "tag": str(tag.pk),
        "assigned": "none",
        "snoozed": "false",  # the open list leaves snoozed conversations out
    }
    assert boot["user"]["is_admin"] is True
    assert boot["tags"] == [{"id": str(tag.pk), "name": "vip", "color": tag.color}]


def test_first_page_hands_over_the_api_cursor(client, admin_user, admin_client, workspace):
    for minutes in range(LIST_PAGE_SIZE + 5):
        _conversation(workspace, f"Customer {minutes}", minutes)
    client.force_login(admin_user)

    response = client.get("/inbox/")
    cursor = _boot(response)["next_cursor"]
    rest = admin_client.get(
        "/api/conversations", {"cursor": cursor, "limit": 30, "status": "active,pending"}
    )

    shown = _listed_ids(response)
    assert len(shown) == LIST_PAGE_SIZE
    remaining = [row["id"] for row in rest.json()["results"]]
    assert len(remaining) == 5
    assert not set(shown) & set(remaining)


def test_last_event_id_lets_the_page_resume(client, admin_user, workspace):
    _conversation(workspace, "Carla")
    latest = Event.objects.create(
        workspace=workspace, kind="conversation:updated", audience="workspace", payload={}
    )
    client.force_login(admin_user)

    assert _boot(client.get("/inbox/"))["last_event_id"] == latest.id


# --- queries -------------------------------------------------------------------------------------


def _inbox_queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_conversations(client, admin_user, agent_user, workspace):
    tag = TagFactory(workspace=workspace)
    first = _conversation(workspace, "One", assigned_agent=agent_user)
    first.tags.add(tag)
    client.force_login(admin_user)
    with_one = _inbox_queries(client, "/inbox/")
    deep_link_one = _inbox_queries(client, f"/inbox/{first.pk}/")

    for n in range(29):
        conversation = _conversation(workspace, f"Customer {n}", n + 1, assigned_agent=agent_user)
        conversation.tags.add(tag)
    with_thirty = _inbox_queries(client, "/inbox/")

    assert with_thirty == with_one
    assert _inbox_queries(client, f"/inbox/{first.pk}/") == deep_link_one
    assert with_one <= 13  # with the unread counts of the tabs and the bell's count


@pytest.mark.parametrize(
    ("layer", "seconds"),
    [
        (InMemoryChannelLayer(), realtime.PROCESS_LOCAL_POLL_SECONDS),
        (object(), 0),  # a shared layer (Redis) carries every process's events
    ],
)
def test_pages_poll_the_event_log_only_when_the_layer_is_process_local(
    client, agent_user, monkeypatch, layer, seconds
):
    monkeypatch.setattr(realtime, "get_channel_layer", lambda: layer)
    client.force_login(agent_user)

    assert _boot(client.get("/inbox/"))["poll_seconds"] == seconds
