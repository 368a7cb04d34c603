"""/api/holidays (dates with their own hours: members read, admins write) and
/api/holiday-feeds (admins): permissions, another workspace's admin (404, nothing changed), bad
input (400, nothing changed), API keys (read only), the audit log, query budgets."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from accounts import api_keys, audit, calendar
from accounts.models import ApiKey, AuditEntry, DateOverride, HolidayFeed
from accounts.services import api_key_create
from accounts.tests.calendar_server import ics, running
from accounts.tests.factories import DateOverrideFactory
from accounts.tests.test_api_keys import key_client

pytestmark = pytest.mark.django_db

DATES = "/api/holidays"
FEEDS = "/api/holiday-feeds"


@pytest.fixture
def today(workspace) -> date:
    return calendar.today(workspace, timezone.now())


@pytest.fixture
def feed(workspace) -> HolidayFeed:
    # Created as stored rows: no fetch happens unless a test asks for a refresh.
    return HolidayFeed.objects.create(
        workspace=workspace, name="Public holidays", url="https://calendar.example/mx.ics"
    )


def _state() -> tuple:
    rows = DateOverride.objects.order_by("date").values_list(
        "date", "closed", "opens", "closes", "name", "source"
    )
    feeds = HolidayFeed.objects.order_by("name").values_list("name", "url", "enabled", "last_error")
    return list(rows), list(feeds), AuditEntry.objects.count()


# --- reading --------------------------------------------------------------------------------------


def test_members_list_the_coming_year_by_default(agent_client, workspace, feed, today):
    DateOverrideFactory(workspace=workspace, date=today - timedelta(days=1), name="Yesterday")
    DateOverrideFactory(workspace=workspace, date=today, name="Today")
    hours = DateOverrideFactory(
        workspace=workspace,
        date=today + timedelta(days=10),
        closed=False,
        opens=time(10),
        closes=time(14, 30),
        name="Inventory",
    )
    DateOverride.objects.create(
        workspace=workspace,
        date=today + timedelta(days=20),
        name="Fiesta",
        source="feed",
        feed=feed,
    )
    DateOverrideFactory(workspace=workspace, date=today + timedelta(days=366), name="Too far")

    response = agent_client.get(DATES)

    assert response.status_code == 200
    rows = response.json()
    assert [row["name"] for row in rows] == ["Today", "Inventory", "Fiesta"]
    assert rows[1] == {
        "id": str(hours.pk),
        "date": (today + timedelta(days=10)).isoformat(),
        "closed": False,
        "opens": "10:00",
        "closes": "14:30",
        "name": "Inventory",
        "source": "manual",
        "feed_id": None,
        "feed_name": None,
        "created_at": rows[1]["created_at"],
        "updated_at": rows[1]["updated_at"],
    }
    assert (rows[2]["source"], rows[2]["feed_id"], rows[2]["feed_name"]) == (
        "feed",
        str(feed.pk),
        "Public holidays",
    )
    assert (rows[0]["closed"], rows[0]["opens"], rows[0]["closes"]) == (True, None, None)


def test_a_window_lists_its_days_only(agent_client, workspace):
    for day in (date(2031, 1, 1), date(2031, 5, 1), date(2031, 12, 25)):
        DateOverrideFactory(workspace=workspace, date=day)

    response = agent_client.get(DATES, {"from": "2031-01-02", "to": "2031-12-25"})

    assert [row["date"] for row in response.json()] == ["2031-05-01", "2031-12-25"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2031-02-30"}, "from"),
        ({"to": "tomorrow"}, "to"),
        ({"from": "2031-06-01", "to": "2031-05-01"}, "from"),
        ({"from": "2031-01-01", "to": "2034-01-01"}, "from"),
        ({"from": "1999-12-31"}, "from"),
    ],
    ids=["no-such-day", "not-a-date", "backwards", "too-long", "out-of-range"],
)
def test_a_bad_window_is_a_400(agent_client, query, field):
    response = agent_client.get(DATES, query)

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


@pytest.mark.parametrize("rows", [1, 30])
def test_the_list_costs_the_same_queries_for_one_date_or_many(
    agent_client, workspace, feed, today, rows, django_assert_num_queries
):
    for n in range(rows):
        DateOverride.objects.create(
            workspace=workspace, date=today + timedelta(days=n), source="feed", feed=feed
        )

    # the user with their workspace (its timezone), the dates with their feeds
    with django_assert_num_queries(2):
        response = agent_client.get(DATES)

    assert len(response.json()) == rows


# --- writing dates --------------------------------------------------------------------------------


def test_an_admin_closes_a_date_and_gives_another_its_own_hours(admin_client, admin_user):
    closed = admin_client.post(
        DATES, {"date": "2031-12-24", "name": "Christmas Eve"}, format="json"
    )
    hours = admin_client.post(
        DATES,
        {"date": "2031-12-31", "closed": False, "opens": "09:00", "closes": "13:00"},
        format="json",
    )

    assert (closed.status_code, hours.status_code) == (201, 201)
    assert {
        k: closed.json()[k] for k in ("date", "closed", "opens", "closes", "name", "source")
    } == {
        "date": "2031-12-24",
        "closed": True,
        "opens": None,
        "closes": None,
        "name": "Christmas Eve",
        "source": "manual",
    }
    assert (hours.json()["opens"], hours.json()["closes"]) == ("09:00", "13:00")
    entries = AuditEntry.objects.filter(action=audit.HOLIDAY_CREATED).order_by("created_at")
    assert [(e.actor_user_id, e.target_type, e.data) for e in entries] == [
        (
            admin_user.pk,
            "holiday",
            {
                "date": "2031-12-24",
                "closed": True,
                "opens": None,
                "closes": None,
                "name": "Christmas Eve",
                "source": "manual",
            },
        ),
        (
            admin_user.pk,
            "holiday",
            {
                "date": "2031-12-31",
                "closed": False,
                "opens": "09:00",
                "closes": "13:00",
                "name": "",
                "source": "manual",
            },
        ),
    ]


def test_a_date_set_by_hand_replaces_a_feeds_on_that_date(admin_client, workspace, feed):
    DateOverride.objects.create(
        workspace=workspace, date=date(2031, 9, 16), name="Independence", source="feed", feed=feed
    )

    response = admin_client.post(
        DATES,
        {"date": "2031-09-16", "closed": False, "opens": "10:00", "closes": "14:00"},
        format="json",
    )

    assert response.status_code == 201
    row = DateOverride.objects.get()
    assert (row.source, row.feed_id, row.closed, row.opens) == ("manual", None, False, time(10))


def test_a_second_entry_for_a_date_is_a_409(admin_client, workspace):
    DateOverrideFactory(workspace=workspace, date=date(2031, 1, 1))
    before = _state()

    response = admin_client.post(DATES, {"date": "2031-01-01"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "date_taken"
    assert _state() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"date": "2031-01-01", "closed": True, "opens": "09:00"}, "closed"),
        ({"date": "2031-01-01", "closed": False, "opens": "14:00", "closes": "09:00"}, "closes"),
        ({"date": "2031-01-01", "closed": False, "opens": "09:00", "closes": "09:00"}, "closes"),
        ({"date": "2031-01-01", "closed": False, "opens": "09:00"}, "closes"),
        ({"date": "2031-01-01", "closed": False}, "opens"),
        ({"date": "2031-02-30"}, "date"),
        ({"date": "1999-12-31"}, "date"),
        ({"date": "2031-01-01", "opens": "25:00", "closed": False, "closes": "26:00"}, "opens"),
        ({"date": "2031-01-01", "name": "x" * 201}, "name"),
        ({"closed": True}, "date"),
    ],
    ids=[
        "closed-with-hours",
        "opens-after-closes",
        "opens-equals-closes",
        "no-closing-time",
        "no-hours",
        "no-such-day",
        "out-of-range",
        "not-a-time",
        "name-too-long",
        "no-date",
    ],
)
def test_bad_input_is_a_400_and_writes_nothing(admin_client, body, field):
    before = _state()

    response = admin_client.post(DATES, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert _state() == before


def test_an_admin_changes_a_date(admin_client, admin_user, workspace, feed):
    row = DateOverride.objects.create(
        workspace=workspace, date=date(2031, 5, 1), name="Labour Day", source="feed", feed=feed
    )

    response = admin_client.patch(
        f"{DATES}/{row.pk}",
        {"closed": False, "opens": "10:00", "closes": "13:00", "date": "2031-05-02"},
        format="json",
    )

    assert response.status_code == 200
    row.refresh_from_db()
    assert (row.date, row.closed, row.opens, row.closes, row.source, row.feed_id) == (
        date(2031, 5, 2),
        False,
        time(10),
        time(13),
        "manual",  # a person's now: no refresh changes it again
        None,
    )
    entry = AuditEntry.objects.get(action=audit.HOLIDAY_UPDATED)
    assert entry.data["changes"] == {
        "date": {"from": "2031-05-01", "to": "2031-05-02"},
        "closed": {"from": True, "to": False},
        "opens": {"from": None, "to": "10:00"},
        "closes": {"from": None, "to": "13:00"},
        "source": {"from": "feed", "to": "manual"},
    }

    closed_again = admin_client.patch(f"{DATES}/{row.pk}", {"closed": True}, format="json")
    assert (closed_again.status_code, closed_again.json()["opens"]) == (200, None)


def test_a_refused_change_changes_nothing(admin_client, workspace):
    row = DateOverrideFactory(
        workspace=workspace, date=date(2031, 5, 1), closed=False, opens=time(9), closes=time(12)
    )
    DateOverrideFactory(workspace=workspace, date=date(2031, 5, 2))
    before = _state()

    bad_hours = admin_client.patch(f"{DATES}/{row.pk}", {"closes": "08:00"}, format="json")
    taken = admin_client.patch(f"{DATES}/{row.pk}", {"date": "2031-05-02"}, format="json")

    assert (bad_hours.status_code, taken.status_code) == (400, 409)
    assert _state() == before


def test_an_admin_removes_a_date(admin_client, workspace):
    row = DateOverrideFactory(workspace=workspace, date=date(2031, 1, 1), name="New Year")

    response = admin_client.delete(f"{DATES}/{row.pk}")

    assert response.status_code == 204
    assert DateOverride.objects.count() == 0
    assert AuditEntry.objects.get(action=audit.HOLIDAY_DELETED).data["name"] == "New Year"


def test_agents_only_read_dates(agent_client, workspace):
    row = DateOverrideFactory(workspace=workspace, date=date(2031, 1, 1))
    before = _state()

    assert agent_client.get(f"{DATES}/{row.pk}").status_code == 200
    assert agent_client.post(DATES, {"date": "2031-01-02"}, format="json").status_code == 403
    assert agent_client.patch(f"{DATES}/{row.pk}", {"name": "x"}, format="json").status_code == 403
    assert agent_client.delete(f"{DATES}/{row.pk}").status_code == 403
    assert _state() == before


def test_another_workspace_neither_sees_nor_changes_a_date(outsider_client, workspace):
    row = DateOverrideFactory(workspace=workspace, date=date(2031, 1, 1))
    before = _state()

    assert outsider_client.get(DATES, {"from": "2031-01-01"}).json() == []
    assert outsider_client.get(f"{DATES}/{row.pk}").status_code == 404
    patch = outsider_client.patch(f"{DATES}/{row.pk}", {"name": "Mine"}, format="json")
    assert patch.status_code == 404
    assert outsider_client.delete(f"{DATES}/{row.pk}").status_code == 404
    assert _state() == before
    # Its own entry on the same date is its own business.
    created = outsider_client.post(DATES, {"date": "2031-01-01"}, format="json")
    assert created.status_code == 201
    assert DateOverride.objects.filter(date=date(2031, 1, 1)).count() == 2


# --- feeds ----------------------------------------------------------------------------------------


def test_an_admin_adds_a_feed(admin_client, admin_user, settings):
    settings.HOLIDAY_FEEDS_ALLOW_PRIVATE = True

    response = admin_client.post(
        FEEDS, {"name": "Mexico", "url": "webcal://127.0.0.1:9/secret-token/mx.ics"}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("name", "url", "enabled", "last_error", "dates_count")} == {
        "name": "Mexico",
        "url": "https://127.0.0.1:9/secret-token/mx.ics",
        "enabled": True,
        "last_error": "",
        "dates_count": 0,
    }
    entry = AuditEntry.objects.get(action=audit.HOLIDAY_FEED_CREATED)
    # The host, never the path: a private calendar's address carries its secret.
    assert (entry.actor_user_id, entry.data) == (
        admin_user.pk,
        {"name": "Mexico", "host": "127.0.0.1", "enabled": True},
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "url": "not an address"}, "url"),
        ({"name": "X", "url": "ftp://calendar.example/x.ics"}, "url"),
        ({"name": "X", "url": "http://127.0.0.1/holidays.ics"}, "url"),
        ({"name": "X", "url": "http://[::1]/holidays.ics"}, "url"),
        ({"name": "X", "url": "http://user:pass@8.8.8.8/x.ics"}, "url"),
        ({"name": "", "url": "http://8.8.8.8/x.ics"}, "name"),
        ({"name": "   ", "url": "http://8.8.8.8/x.ics"}, "name"),
        ({"url": "http://8.8.8.8/x.ics"}, "name"),
    ],
    ids=["not-a-url", "ftp", "loopback", "loopback-v6", "credentials", "no-name", "blank", "none"],
)
def test_a_bad_feed_is_a_400_and_writes_nothing(admin_client, body, field):
    before = _state()

    response = admin_client.post(FEEDS, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert _state() == before


def test_a_feed_address_twice_is_a_409(admin_client, feed):
    before = _state()

    response = admin_client.post(FEEDS, {"name": "Again", "url": feed.url}, format="json")

    assert (response.status_code, response.json()["error"]["code"]) == (409, "feed_exists")
    assert _state() == before


def test_refresh_now_answers_what_changed_or_why_it_failed(
    admin_client, workspace, settings, today
):
    settings.HOLIDAY_FEEDS_ALLOW_PRIVATE = True
    day = today + timedelta(days=5)
    with running() as server:
        url = server.serve("/mx.ics", ics(f"DTSTART;VALUE=DATE:{day:%Y%m%d}\nSUMMARY:Fiesta"))
        feed = HolidayFeed.objects.create(workspace=workspace, name="Mexico", url=url)

        fetched = admin_client.post(f"{FEEDS}/{feed.pk}/refresh")
        server.serve("/mx.ics", b"Service unavailable", 503)
        failed = admin_client.post(f"{FEEDS}/{feed.pk}/refresh")

    assert fetched.status_code == 200
    assert {k: fetched.json()[k] for k in ("added", "removed", "error")} == {
        "added": [day.isoformat()],
        "removed": [],
        "error": "",
    }
    assert fetched.json()["feed"]["dates_count"] == 1
    assert failed.status_code == 200
    assert failed.json()["error"] == "The server answered 503."
    assert failed.json()["feed"]["last_error"] == "The server answered 503."
    assert list(DateOverride.objects.values_list("date", "name")) == [(day, "Fiesta")]


def test_admins_change_and_delete_feeds(admin_client, workspace, feed):
    DateOverride.objects.create(
        workspace=workspace, date=date(2031, 1, 1), source="feed", feed=feed
    )

    renamed = admin_client.patch(f"{FEEDS}/{feed.pk}", {"name": "Mexico"}, format="json")
    listed = admin_client.get(FEEDS)
    deleted = admin_client.delete(f"{FEEDS}/{feed.pk}")

    assert (renamed.status_code, renamed.json()["name"]) == (200, "Mexico")
    assert [(f["name"], f["dates_count"]) for f in listed.json()] == [("Mexico", 1)]
    assert deleted.status_code == 204
    assert (HolidayFeed.objects.count(), DateOverride.objects.count()) == (0, 0)


def test_agents_have_no_feeds(agent_client, feed):
    before = _state()

    assert agent_client.get(FEEDS).status_code == 403
    assert agent_client.get(f"{FEEDS}/{feed.pk}").status_code == 403
    assert (
        agent_client.post(
            FEEDS, {"name": "X", "url": "http://8.8.8.8/x"}, format="json"
        ).status_code
        == 403
    )
    assert (
        agent_client.patch(f"{FEEDS}/{feed.pk}", {"enabled": False}, format="json").status_code
        == 403
    )
    assert agent_client.post(f"{FEEDS}/{feed.pk}/refresh").status_code == 403
    assert agent_client.delete(f"{FEEDS}/{feed.pk}").status_code == 403
    assert _state() == before


def test_another_workspace_neither_sees_nor_touches_a_feed(outsider_client, feed):
    before = _state()

    assert outsider_client.get(FEEDS).json() == []
    assert outsider_client.get(f"{FEEDS}/{feed.pk}").status_code == 404
    patch = outsider_client.patch(f"{FEEDS}/{feed.pk}", {"enabled": False}, format="json")
    assert patch.status_code == 404
    assert outsider_client.post(f"{FEEDS}/{feed.pk}/refresh").status_code == 404
    assert outsider_client.delete(f"{FEEDS}/{feed.pk}").status_code == 404
    assert _state() == before


# --- API keys -------------------------------------------------------------------------------------


def test_keys_read_dates_never_write_them_and_never_see_feeds(admin_user, workspace, feed):
    DateOverrideFactory(workspace=workspace, date=date(2031, 1, 1))
    _, secret = api_key_create(by=admin_user, name="ERP", scopes=list(ApiKey.Scope.values))
    client = key_client(secret)
    before = _state()

    assert client.get(DATES, {"from": "2031-01-01"}).status_code == 200
    refused = [
        client.get(FEEDS),
        client.post(DATES, {"date": "2031-01-02"}, format="json"),
        client.post(FEEDS, {"name": "X", "url": "http://8.8.8.8/x"}, format="json"),
        client.post(f"{FEEDS}/{feed.pk}/refresh"),
        client.delete(f"{FEEDS}/{feed.pk}"),
    ]
    assert [(r.status_code, r.json()["error"]["code"]) for r in refused] == [
        (403, "insufficient_scope")
    ] * 5
    assert _state()[:2] == before[:2]
    assert api_keys.required_scope("GET", "/api/holidays") == ApiKey.Scope.READ
    assert api_keys.required_scope("PATCH", "/api/holidays/1") is None
    assert api_keys.required_scope("POST", "/api/holiday-feeds/1/refresh") is None
    assert api_keys.required_scope("GET", "/api/holiday-feeds") is None
