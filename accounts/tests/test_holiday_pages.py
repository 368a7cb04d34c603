"""The holidays page (server side): who may open it, what its forms change, that refused input
changes nothing, and that another workspace's dates and feeds do not exist for an admin."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import audit, calendar
from accounts.models import AuditEntry, DateOverride, HolidayFeed
from accounts.tests.calendar_server import ics, running
from accounts.tests.factories import DateOverrideFactory
from assistants.tests.factories import AssistantFactory

pytestmark = pytest.mark.django_db

PAGE = "/settings/holidays/"


@pytest.fixture(autouse=True)
def _english(workspace):
    workspace.language = "en"  # the factories' workspaces speak Spanish
    workspace.save(update_fields=["language"])


@pytest.fixture
def as_admin(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def today(workspace) -> date:
    return calendar.today(workspace, timezone.now())


def _state() -> tuple:
    rows = DateOverride.objects.order_by("date").values_list(
        "workspace_id", "date", "closed", "opens", "closes", "name", "source"
    )
    feeds = HolidayFeed.objects.order_by("name").values_list("name", "url", "enabled")
    return list(rows), list(feeds)


def test_the_page_lists_the_coming_dates_and_the_feeds(as_admin, workspace, today):
    feed = HolidayFeed.objects.create(
        workspace=workspace,
        name="Mexico",
        url="https://calendar.example/mx.ics",
        last_fetched_at=timezone.now(),
        last_error="The server answered 404.",
    )
    DateOverrideFactory(workspace=workspace, date=today - timedelta(days=1), name="Yesterday")
    DateOverrideFactory(
        workspace=workspace,
        date=today + timedelta(days=2),
        closed=False,
        opens=time(10),
        closes=time(14),
        name="Inventory",
    )
    DateOverride.objects.create(
        workspace=workspace, date=today + timedelta(days=9), name="Fiesta", source="feed", feed=feed
    )

    response = as_admin.get(PAGE)

    assert response.status_code == 200
    assert [row.name for row in response.context["dates"]] == ["Inventory", "Fiesta"]
    page = response.content.decode()
    assert "10:00\N{EN DASH}14:00" in page
    assert "The server answered 404." in page
    assert 'data-testid="holiday-feed-refresh"' in page
    assert "Yesterday" not in page


def test_the_workspace_page_links_here(as_admin):
    assert f'href="{PAGE}"' in as_admin.get(reverse("settings-workspace")).content.decode()


def test_agents_are_refused(client, agent_user, workspace):
    row = DateOverrideFactory(workspace=workspace, date=date(2031, 1, 1))
    client.force_login(agent_user)
    before = _state()

    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"day": "2031-01-02", "kind": "closed"}).status_code == 403
    assert client.post(reverse("settings-holiday-delete", args=[row.pk])).status_code == 403
    assert _state() == before


def test_an_admin_adds_a_closed_date_and_one_with_hours(as_admin, workspace):
    closed = as_admin.post(
        PAGE, {"day": "2031-12-24", "kind": "closed", "opens": "09:00", "name": "Christmas Eve"}
    )
    hours = as_admin.post(
        PAGE, {"day": "2031-12-31", "kind": "hours", "opens": "09:00", "closes": "13:00"}
    )

    assert (closed.status_code, hours.status_code) == (302, 302)
    rows = DateOverride.objects.order_by("date")
    # "Closed all day" ignores an hour typed before the choice changed
    assert [(r.date, r.closed, r.opens, r.closes, r.name) for r in rows] == [
        (date(2031, 12, 24), True, None, None, "Christmas Eve"),
        (date(2031, 12, 31), False, time(9), time(13), ""),
    ]


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        (
            {"day": "2031-01-01", "kind": "hours", "opens": "14:00", "closes": "09:00"},
            400,
            "Must be after the opening time (the hours end by midnight).",
        ),
        (
            {"day": "2031-01-01", "kind": "hours", "opens": "09:00"},
            400,
            "Give both the opening and closing time.",
        ),
        ({"day": "2031-02-30", "kind": "closed"}, 400, "Enter a valid date."),
        ({"day": "2031-03-03", "kind": "closed"}, 409, "This date already has its own hours"),
    ],
    ids=["backwards", "half", "no-such-day", "taken"],
)
def test_refused_input_shows_why_and_changes_nothing(as_admin, workspace, form, status, error):
    DateOverrideFactory(workspace=workspace, date=date(2031, 3, 3))
    before = _state()

    response = as_admin.post(PAGE, form)

    assert response.status_code == status
    assert error in response.content.decode()
    assert _state() == before


def test_an_admin_edits_and_removes_a_date(as_admin, workspace):
    row = DateOverrideFactory(workspace=workspace, date=date(2031, 5, 1), name="Labour Day")
    url = reverse("settings-holiday", args=[row.pk])
    assert as_admin.get(url).status_code == 200

    saved = as_admin.post(
        url,
        {"day": "2031-05-01", "kind": "hours", "opens": "10:00", "closes": "12:00", "name": "Half"},
    )
    row.refresh_from_db()
    assert saved.status_code == 302
    assert (row.closed, row.opens, row.closes, row.name) == (False, time(10), time(12), "Half")

    removed = as_admin.post(reverse("settings-holiday-delete", args=[row.pk]))
    assert removed.status_code == 302
    assert DateOverride.objects.count() == 0


def test_another_workspaces_dates_and_feeds_are_not_found(client, outsider, workspace):
    row = DateOverrideFactory(workspace=workspace, date=date(2031, 1, 1))
    feed = HolidayFeed.objects.create(
        workspace=workspace, name="A", url="https://calendar.example/a.ics"
    )
    client.force_login(outsider)
    before = _state()

    assert client.get(reverse("settings-holiday", args=[row.pk])).status_code == 404
    assert (
        client.post(
            reverse("settings-holiday", args=[row.pk]), {"day": "2031-01-02", "kind": "closed"}
        ).status_code
        == 404
    )
    assert client.post(reverse("settings-holiday-delete", args=[row.pk])).status_code == 404
    for name in ("refresh", "toggle", "delete"):
        url = reverse(f"settings-holiday-feed-{name}", args=[feed.pk])
        assert client.post(url).status_code == 404, name
    assert "calendar.example" not in client.get(PAGE).content.decode()
    assert _state() == before


def test_an_admin_adds_refreshes_turns_off_and_deletes_a_feed(
    as_admin, workspace, settings, today, django_capture_on_commit_callbacks
):
    settings.HOLIDAY_FEEDS_ALLOW_PRIVATE = True
    day = today + timedelta(days=5)
    with running() as server:
        url = server.serve("/mx.ics", ics(f"DTSTART;VALUE=DATE:{day:%Y%m%d}\nSUMMARY:Fiesta"))
        with django_capture_on_commit_callbacks(execute=True):
            added = as_admin.post(
                reverse("settings-holiday-feeds"), {"feed-name": "Mexico", "feed-url": url}
            )
        feed = HolidayFeed.objects.get()
        assert added.status_code == 302
        assert list(DateOverride.objects.values_list("date", "name", "source")) == [
            (day, "Fiesta", "feed")
        ]

        server.serve("/mx.ics", b"not a calendar")
        refreshed = as_admin.post(
            reverse("settings-holiday-feed-refresh", args=[feed.pk]), follow=True
        )
        assert "The file is not an iCalendar (.ics) calendar." in refreshed.content.decode()

    off = as_admin.post(reverse("settings-holiday-feed-toggle", args=[feed.pk]))
    feed.refresh_from_db()
    assert (off.status_code, feed.enabled, DateOverride.objects.count()) == (302, False, 0)
    deleted = as_admin.post(reverse("settings-holiday-feed-delete", args=[feed.pk]))
    assert (deleted.status_code, HolidayFeed.objects.count()) == (302, 0)


def test_a_private_feed_address_is_refused_on_the_form(as_admin, settings):
    settings.HOLIDAY_FEEDS_ALLOW_PRIVATE = False

    response = as_admin.post(
        reverse("settings-holiday-feeds"),
        {"feed-name": "Intranet", "feed-url": "http://10.0.0.8/h.ics"},
    )

    assert response.status_code == 400
    assert "private and local addresses are refused" in response.content.decode()
    assert HolidayFeed.objects.count() == 0


def test_the_assistant_page_says_when_today_is_closed(as_admin, workspace, today):
    assistant = AssistantFactory(workspace=workspace, schedule_mode="inside")
    DateOverrideFactory(workspace=workspace, date=today, name="Founders' day")

    page = as_admin.get(reverse("settings-assistant", args=[assistant.pk])).content.decode()

    assert "Closed today: Founders&#x27; day" in page


def _upload(client, body: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("holidays.ics", body, content_type="text/calendar")
    return client.post(reverse("settings-holiday-import"), {"upload-file": upload})


def test_an_uploaded_calendar_is_imported_once_as_the_admins_own_dates(
    as_admin, workspace, admin_user, today
):
    kept = DateOverrideFactory(
        workspace=workspace,
        date=today + timedelta(days=2),
        closed=False,
        opens=time(9),
        closes=time(12),
    )
    body = ics(
        f"DTSTART;VALUE=DATE:{today + timedelta(days=2):%Y%m%d}\nSUMMARY:Already ours",
        f"DTSTART;VALUE=DATE:{today + timedelta(days=6):%Y%m%d}\nDURATION:P2D\nSUMMARY:Bridge",
        f"DTSTART:{today + timedelta(days=8):%Y%m%d}T100000Z\nSUMMARY:Timed",
    )

    response = _upload(as_admin, body)

    assert response.status_code == 302
    rows = DateOverride.objects.order_by("date")
    assert [(r.date, r.closed, r.name, r.source) for r in rows] == [
        (kept.date, False, "Holiday", "manual"),
        (today + timedelta(days=6), True, "Bridge", "manual"),
        (today + timedelta(days=7), True, "Bridge", "manual"),
    ]
    entry = AuditEntry.objects.get(action=audit.HOLIDAYS_IMPORTED)
    assert (entry.actor_user_id, entry.data["counts"]) == (admin_user.pk, {"added": 2, "kept": 1})


@pytest.mark.parametrize("body", [b"<html>hello</html>", b"BEGIN:VCALENDAR\r\n" + b"X" * 5000])
def test_an_unreadable_or_too_big_file_is_refused_and_imports_nothing(as_admin, settings, body):
    settings.HOLIDAY_FEEDS_MAX_BYTES = 4096
    before = _state()

    response = _upload(as_admin, body)

    assert response.status_code == 400
    assert "is not an iCalendar (.ics) calendar, or it is too large" in response.content.decode()
    assert _state() == before


def test_agents_cannot_import(client, agent_user, today):
    client.force_login(agent_user)

    response = _upload(client, ics(f"DTSTART;VALUE=DATE:{today:%Y%m%d}\nSUMMARY:X"))

    assert (response.status_code, DateOverride.objects.count()) == (403, 0)
