"""Holiday feeds against a local calendar server serving real .ics bodies: whole-day events
(multi-day, yearly rules) become closed dates, timed and cancelled ones do not; a refresh is
idempotent, removes what the feed dropped (from today on), never touches a date set by hand;
garbage, a 404, a body too big or a private address store an error and change no date."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from accounts import audit, calendar, services
from accounts.ical import holidays_in
from accounts.models import AuditEntry, DateOverride, HolidayFeed
from accounts.tasks import refresh_holiday_feeds_task
from accounts.tests.calendar_server import ics, running
from flame.exceptions import InvalidInput

pytestmark = pytest.mark.django_db


def _d(day: date) -> str:
    return day.strftime("%Y%m%d")


@pytest.fixture
def today(workspace) -> date:
    return calendar.today(workspace, timezone.now())


@pytest.fixture
def server(settings):
    settings.HOLIDAY_FEEDS_ALLOW_PRIVATE = True
    settings.HOLIDAY_FEEDS_TIMEOUT_SECONDS = 2.0
    with running() as calendar_server:
        yield calendar_server


def _christmases(today: date) -> list[date]:
    last = today + services.FEED_HORIZON
    years = range(today.year, last.year + 1)
    return [day for day in (date(year, 12, 25) for year in years) if today <= day <= last]


def _body(today: date, *, with_bridge: bool = True) -> bytes:
    """Christmas every year since 2020, a three-day closure in forty days, a timed meeting, a
    cancelled day and a day already past."""
    bridge = today + timedelta(days=40)
    events = [
        "DTSTART;VALUE=DATE:20201225\nDTEND;VALUE=DATE:20201226\nSUMMARY:Christmas Day\n"
        "RRULE:FREQ=YEARLY",
        f"DTSTART:{_d(today + timedelta(days=10))}T150000Z\n"
        f"DTEND:{_d(today + timedelta(days=10))}T160000Z\nSUMMARY:Team meeting",
        f"DTSTART;VALUE=DATE:{_d(today + timedelta(days=12))}\nSUMMARY:Called off\n"
        "STATUS:CANCELLED",
        f"DTSTART;VALUE=DATE:{_d(today - timedelta(days=30))}\nSUMMARY:Long ago",
    ]
    if with_bridge:
        events.append(
            f"DTSTART;VALUE=DATE:{_d(bridge)}\nDTEND;VALUE=DATE:{_d(bridge + timedelta(days=3))}\n"
            "SUMMARY:Bridge days"
        )
    return ics(*events)


def _expected(today: date, *, with_bridge: bool = True) -> dict[date, str]:
    expected = dict.fromkeys(_christmases(today), "Christmas Day")
    if with_bridge:
        bridge = today + timedelta(days=40)
        expected.update({bridge + timedelta(days=n): "Bridge days" for n in range(3)})
    return dict(sorted(expected.items()))


def _rows(workspace) -> dict[date, tuple]:
    rows = DateOverride.objects.filter(workspace=workspace).order_by("date")
    return {row.date: (row.closed, row.name, row.source) for row in rows}


def _add_feed(admin_user, url: str, django_capture_on_commit_callbacks) -> HolidayFeed:
    with django_capture_on_commit_callbacks(execute=True):
        feed = services.holiday_feed_create(by=admin_user, name="Public holidays", url=url)
    feed.refresh_from_db()
    return feed


# --- importing ------------------------------------------------------------------------------------


def test_a_new_feed_is_fetched_and_its_whole_day_events_close_those_dates(
    server, workspace, admin_user, today, django_capture_on_commit_callbacks
):
    url = server.serve("/mx.ics", _body(today))

    feed = _add_feed(admin_user, url, django_capture_on_commit_callbacks)

    expected = _expected(today)
    assert _rows(workspace) == {day: (True, name, "feed") for day, name in expected.items()}
    assert set(DateOverride.objects.values_list("feed_id", flat=True)) == {feed.pk}
    assert (feed.last_error, feed.enabled) == ("", True)
    assert feed.last_fetched_at == feed.last_succeeded_at
    assert server.requested == ["/mx.ics"]
    refreshed = AuditEntry.objects.get(action=audit.HOLIDAY_FEED_REFRESHED)
    assert refreshed.actor_type == "system"
    assert refreshed.data == {
        "name": "Public holidays",
        "host": "127.0.0.1",
        "added": [day.isoformat() for day in expected],
        "removed": [],
        "counts": {"added": len(expected), "removed": 0, "renamed": 0},
    }


def test_refreshing_again_changes_nothing(
    server, workspace, admin_user, today, django_capture_on_commit_callbacks
):
    feed = _add_feed(
        admin_user, server.serve("/mx.ics", _body(today)), django_capture_on_commit_callbacks
    )
    before = list(DateOverride.objects.order_by("date").values("id", "date", "name", "updated_at"))

    outcome = services.holiday_feed_refresh(feed=feed)

    assert (outcome.added, outcome.removed, outcome.renamed, outcome.error) == ((), (), 0, "")
    after = list(DateOverride.objects.order_by("date").values("id", "date", "name", "updated_at"))
    assert after == before
    # The system's refresh that changed nothing leaves no audit entry; a person's does.
    assert AuditEntry.objects.filter(action=audit.HOLIDAY_FEED_REFRESHED).count() == 1
    services.holiday_feed_refresh(feed=feed, by=admin_user)
    assert AuditEntry.objects.filter(action=audit.HOLIDAY_FEED_REFRESHED).count() == 2


def test_a_date_set_by_hand_is_never_touched_by_a_refresh(
    server, workspace, admin_user, today, django_capture_on_commit_callbacks
):
    bridge = today + timedelta(days=40)
    # given: the admin's own hours on a date the feed closes, set before the feed came
    services.date_override_create(
        by=admin_user, day=bridge, closed=False, opens=time(10), closes=time(14), name="Half day"
    )
    feed = _add_feed(
        admin_user, server.serve("/mx.ics", _body(today)), django_capture_on_commit_callbacks
    )
    assert _rows(workspace)[bridge] == (False, "Half day", "manual")

    # when: the admin closes another of the feed's dates by hand, and the feed drops them all
    second = DateOverride.objects.get(date=bridge + timedelta(days=1))
    services.date_override_update(by=admin_user, override=second, name="Inventory")
    server.serve("/mx.ics", _body(today, with_bridge=False))
    outcome = services.holiday_feed_refresh(feed=feed)

    # then: both stay as the admin set them; only the feed's own third day goes
    rows = _rows(workspace)
    assert rows[bridge] == (False, "Half day", "manual")
    assert rows[bridge + timedelta(days=1)] == (True, "Inventory", "manual")
    assert bridge + timedelta(days=2) not in rows
    assert outcome.removed == (bridge + timedelta(days=2),)
    hours = DateOverride.objects.get(date=bridge)
    assert (hours.opens, hours.closes, hours.feed_id) == (time(10), time(14), None)


def test_the_feed_removes_only_coming_dates_it_no_longer_lists(
    server, workspace, admin_user, today, django_capture_on_commit_callbacks
):
    feed = _add_feed(
        admin_user, server.serve("/mx.ics", _body(today)), django_capture_on_commit_callbacks
    )
    # A date of this feed last year: history, whatever the feed says now.
    past = DateOverride.objects.create(
        workspace=workspace, date=today - timedelta(days=200), name="Old", source="feed", feed=feed
    )
    server.serve("/mx.ics", _body(today, with_bridge=False))

    outcome = services.holiday_feed_refresh(feed=feed)

    bridge = today + timedelta(days=40)
    assert outcome.removed == tuple(bridge + timedelta(days=n) for n in range(3))
    assert set(_rows(workspace)) == {past.date, *_expected(today, with_bridge=False)}


def test_a_renamed_holiday_is_renamed(
    server, workspace, admin_user, today, django_capture_on_commit_callbacks
):
    feed = _add_feed(
        admin_user, server.serve("/mx.ics", _body(today)), django_capture_on_commit_callbacks
    )
    server.serve("/mx.ics", _body(today).replace(b"Christmas Day", b"Navidad"))

    outcome = services.holiday_feed_refresh(feed=feed)

    assert outcome.renamed == len(_christmases(today))
    names = {row.date: row.name for row in DateOverride.objects.all()}
    assert {names[day] for day in _christmases(today)} == {"Navidad"}


def test_a_redirect_is_followed(
    server, workspace, admin_user, today, django_capture_on_commit_callbacks
):
    server.serve("/calendar.ics", _body(today))
    moved = server.serve("/old", b"", 301, Location="/calendar.ics")

    _add_feed(admin_user, moved, django_capture_on_commit_callbacks)

    assert server.requested == ["/old", "/calendar.ics"]
    assert set(_rows(workspace)) == set(_expected(today))


# --- failures: stored on the feed, nothing changed ------------------------------------------------


@pytest.fixture
def imported(server, workspace, admin_user, today, django_capture_on_commit_callbacks):
    """A feed whose dates were imported once; each test then breaks what it serves."""
    feed = _add_feed(
        admin_user, server.serve("/mx.ics", _body(today)), django_capture_on_commit_callbacks
    )
    return feed, _rows(workspace)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"body": b"<html>We moved!</html>"}, "The file is not an iCalendar (.ics) calendar."),
        ({"body": b"", "status": 404}, "The server answered 404."),
        ({"body": b"oops", "status": 500}, "The server answered 500."),
        ({"body": ics("DTSTART:20300101T100000Z\nSUMMARY:Timed")}, services.FEED_NO_DATES),
    ],
    ids=["garbage", "404", "500", "no-whole-days"],
)
def test_a_feed_that_cannot_be_read_keeps_its_dates_and_shows_why(
    server, workspace, imported, answer, error
):
    feed, rows_before = imported
    server.serve("/mx.ics", **answer)

    outcome = services.holiday_feed_refresh(feed=feed)

    feed.refresh_from_db()
    assert outcome.error == feed.last_error == error
    assert feed.last_fetched_at > feed.last_succeeded_at
    assert _rows(workspace) == rows_before


@pytest.mark.parametrize("declare_length", [True, False], ids=["declared", "streamed"])
def test_a_body_too_big_is_refused(server, workspace, imported, settings, declare_length):
    feed, rows_before = imported
    settings.HOLIDAY_FEEDS_MAX_BYTES = 4096
    server.serve("/mx.ics", b"X" * 100_000, declare_length=declare_length)

    outcome = services.holiday_feed_refresh(feed=feed)

    assert outcome.error == "The file is larger than 4096 bytes."
    assert _rows(workspace) == rows_before


def test_a_private_address_is_refused_unless_allowed(
    server, workspace, imported, admin_user, settings
):
    feed, rows_before = imported
    settings.HOLIDAY_FEEDS_ALLOW_PRIVATE = False

    with pytest.raises(InvalidInput) as refused:
        services.holiday_feed_create(by=admin_user, name="Intranet", url=f"{server.base_url}/x")
    outcome = services.holiday_feed_refresh(feed=feed)

    assert refused.value.details == {
        "url": ["Private, loopback and link-local addresses are not allowed."]
    }
    assert outcome.error == "Private, loopback and link-local addresses are not allowed."
    assert HolidayFeed.objects.count() == 1
    assert _rows(workspace) == rows_before
    assert server.requested == ["/mx.ics"]  # the refused refresh never reached the server


def test_turning_a_feed_off_removes_its_coming_dates_and_on_fetches_again(
    server, workspace, imported, admin_user, today, django_capture_on_commit_callbacks
):
    feed, rows_before = imported

    services.holiday_feed_update(by=admin_user, feed=feed, enabled=False)
    assert _rows(workspace) == {}
    with django_capture_on_commit_callbacks(execute=True):
        services.holiday_feed_update(by=admin_user, feed=feed, enabled=True)

    assert _rows(workspace) == rows_before
    assert server.requested == ["/mx.ics", "/mx.ics"]


def test_deleting_a_feed_deletes_its_dates_but_not_those_set_by_hand(
    workspace, imported, admin_user, today
):
    feed, _ = imported
    services.date_override_create(by=admin_user, day=today + timedelta(days=3), name="Ours")

    services.holiday_feed_delete(by=admin_user, feed=feed)

    assert _rows(workspace) == {today + timedelta(days=3): (True, "Ours", "manual")}
    deleted = AuditEntry.objects.get(action=audit.HOLIDAY_FEED_DELETED)
    assert deleted.data == {
        "name": "Public holidays",
        "host": "127.0.0.1",
        "dates": len(_expected(today)),
    }


# --- the daily refresh ----------------------------------------------------------------------------


def test_the_hourly_sweep_refreshes_each_feed_once_a_day(
    server, workspace, admin_user, today, django_capture_on_commit_callbacks
):
    url = server.serve("/mx.ics", _body(today))
    off = HolidayFeed.objects.create(
        workspace=workspace, name="Off", url=f"{url}?off", enabled=False
    )
    with django_capture_on_commit_callbacks(execute=False):  # created, not fetched yet
        feed = services.holiday_feed_create(by=admin_user, name="Public holidays", url=url)

    assert refresh_holiday_feeds_task.delay().get() == 1
    assert refresh_holiday_feeds_task.delay().get() == 0  # fetched less than a day ago

    assert set(_rows(workspace)) == set(_expected(today))
    assert server.requested == ["/mx.ics"]
    HolidayFeed.objects.filter(pk=feed.pk).update(
        last_fetched_at=timezone.now() - services.FEED_REFRESH_EVERY - timedelta(minutes=1)
    )
    assert refresh_holiday_feeds_task.delay().get() == 1
    assert server.requested == ["/mx.ics", "/mx.ics"]
    off.refresh_from_db()
    assert off.last_fetched_at is None


# --- reading iCalendar ----------------------------------------------------------------------------


def test_rules_exceptions_and_moved_instances():
    body = ics(
        "UID:ny\nDTSTART;VALUE=DATE:20200101\nSUMMARY:New Year\nRRULE:FREQ=YEARLY\n"
        "EXDATE;VALUE=DATE:20310101",
        "UID:ny\nRECURRENCE-ID;VALUE=DATE:20320101\nDTSTART;VALUE=DATE:20320102\n"
        "SUMMARY:New Year (moved)",
        "DTSTART;VALUE=DATE:20200501\nSUMMARY:Labour Day\nRRULE:FREQ=YEARLY;UNTIL=20310101T000000Z",
        "DTSTART;VALUE=DATE:20310916\nDURATION:P2D\nSUMMARY:Independence",
        "DTSTART;VALUE=DATE:20310916\nSUMMARY:Fiesta",
        "DTSTART;VALUE=DATE:20310301\nSUMMARY:Every hour\nRRULE:FREQ=HOURLY",
        "DTSTART;VALUE=DATE:20310401\nSUMMARY:Easter\nRDATE;VALUE=DATE:20320325",
    )

    found = holidays_in(body, first=date(2030, 12, 1), last=date(2032, 6, 30))

    assert found == {
        date(2031, 4, 1): "Easter",
        date(2031, 9, 16): "Independence, Fiesta",
        date(2031, 9, 17): "Independence",
        date(2032, 1, 2): "New Year (moved)",
        date(2032, 3, 25): "Easter",
    }
